"""Row-level security in migrations: the app role, and each tenant-scoped table's policy.

Row-level security is the second wall behind the application's own tenant filter.
"""

from __future__ import annotations

from alembic import op

from herald.kit.rls import APP_ROLE as APP_ROLE
from herald.kit.rls import TENANT_SETTING


def create_app_role() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN NOBYPASSRLS;
          END IF;
        END $$;
        """  # noqa: S608 - constant identifiers, no user input
    )
    op.execute(f"GRANT {APP_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")


def enable_tenant_rls(table: str) -> None:
    """Grant the app role DML on ``table`` and confine it to the current tenant's rows."""
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} TO {APP_ROLE} {tenant_policy_sql()}")


def tenant_policy_sql(column: str = "tenant_id", *, check: bool = True) -> str:
    """The tenant policy's clauses: ``column`` is the current tenant. The tenant is read by a
    scalar subquery, once per statement, not once per row (migration 0027)."""
    current = f"(SELECT NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid)"
    using = f"USING ({column} = {current})"
    return f"{using} WITH CHECK ({column} = {current})" if check else using


def grant_app_role(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    """Grant the app role access to a table that is not tenant-scoped (users, tenants…)."""
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")
