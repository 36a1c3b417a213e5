"""Row-level security names shared by the database layer and the migrations.

The application connects as the database owner, and every tenant-scoped transaction switches to
the unprivileged ``herald_app`` role and sets ``herald.tenant_id`` for that transaction only
(see ``herald.kit.database.scope_to_tenant``). Policies compare each row's ``tenant_id`` with it;
the migrations create them with ``herald.migrations.rls``.
"""

APP_ROLE = "herald_app"
TENANT_SETTING = "herald.tenant_id"
