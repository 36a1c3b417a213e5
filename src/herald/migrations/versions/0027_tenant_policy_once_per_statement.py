"""row-level security: each tenant policy reads the current tenant once per statement

The policies compared every row with ``NULLIF(current_setting('herald.tenant_id', true),
'')::uuid``. PostgreSQL evaluates such a (stable) expression again for each row a write
checks: a setting lookup and a UUID parse per row, about a quarter of a microsecond, which a
million-message launch paid a million times. Written as a scalar subquery, the same value is
computed once per statement (an InitPlan) and each row costs one comparison. Which rows the
app role sees and may write is unchanged.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

from alembic import op

from herald.migrations.rls import tenant_policy_sql

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

POLICIES = """
SELECT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE p.polname = 'tenant_isolation' AND c.relname <> 'tenants'
ORDER BY c.relname
"""


def _tables() -> list[str]:
    return [row[0] for row in op.get_bind().exec_driver_sql(POLICIES)]


def upgrade() -> None:
    for table in _tables():
        op.execute(f"ALTER POLICY tenant_isolation ON {table} {tenant_policy_sql('tenant_id')}")
    op.execute(f"ALTER POLICY tenant_isolation ON tenants {tenant_policy_sql('id', check=False)}")


def downgrade() -> None:
    old = "NULLIF(current_setting('herald.tenant_id', true), '')::uuid"
    for table in _tables():
        op.execute(
            f"ALTER POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {old}) WITH CHECK (tenant_id = {old})"
        )
    op.execute(f"ALTER POLICY tenant_isolation ON tenants USING (id = {old})")
