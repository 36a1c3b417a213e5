"""Every table with a ``tenant_id`` is under row-level security with a tenant policy for the
app role, read from the live catalogue: a table added later without ``enable_tenant_rls`` (or
one switched to a plain grant) fails here, whoever wrote it."""

from __future__ import annotations

from sqlalchemy import text

from herald.kit.database import Database
from herald.kit.rls import APP_ROLE, TENANT_SETTING

PRE_AUTHENTICATION = {
    # Looked up by its token before anyone is signed in, in the owner's sign-in transaction;
    # its tenant_id only names the tenant the link signs in to. The app role has no grant.
    "magic_link_tokens",
}
"""Tables with a ``tenant_id`` outside the tenant policy, each with its reason. They must stay
out of the app role's reach entirely (checked below). Adding one is a decision to write
down, not a way to make the test pass."""

_TABLES = """
    SELECT c.relname, c.relrowsecurity,
           EXISTS (
               SELECT 1 FROM pg_policy p
               WHERE p.polrelid = c.oid
                 AND p.polroles @> ARRAY[(SELECT oid FROM pg_roles WHERE rolname = :role)]
                 AND pg_get_expr(p.polqual, p.polrelid) LIKE '%tenant_id%'
                 AND pg_get_expr(p.polqual, p.polrelid) LIKE '%' || :setting || '%'
           ) AS has_policy
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p')
"""


async def tables_with_tenant(db: Database) -> dict[str, tuple[bool, bool]]:
    async with db.system_session() as session:
        rows = await session.execute(text(_TABLES), {"role": APP_ROLE, "setting": TENANT_SETTING})
        return {row[0]: (row[1], row[2]) for row in rows}


async def test_every_tenant_table_has_rls_and_a_tenant_policy(db: Database) -> None:
    found = await tables_with_tenant(db)
    assert len(found) >= 25, sorted(found)
    unprotected = sorted(
        name
        for name, (enabled, policy) in found.items()
        if name not in PRE_AUTHENTICATION and not (enabled and policy)
    )
    assert unprotected == [], "call enable_tenant_rls(table) in the table's migration"


async def test_exceptions_are_out_of_the_app_roles_reach(db: Database) -> None:
    """An exception is a real table (else it is dropped from the list) and the app role can
    neither read nor write it: without a policy, a grant would expose every tenant's rows."""
    assert set(await tables_with_tenant(db)) >= PRE_AUTHENTICATION
    async with db.system_session() as session:
        for table in sorted(PRE_AUTHENTICATION):
            granted = await session.scalar(
                text(
                    "SELECT has_table_privilege(:role, :table, 'SELECT') "
                    "OR has_table_privilege(:role, :table, 'INSERT') "
                    "OR has_table_privilege(:role, :table, 'UPDATE') "
                    "OR has_table_privilege(:role, :table, 'DELETE')"
                ),
                {"role": APP_ROLE, "table": table},
            )
            assert granted is False, table
