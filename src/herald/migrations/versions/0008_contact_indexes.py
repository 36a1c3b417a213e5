"""join the domain branches; trim contact indexes to those the app role can use

Row-level security lets PostgreSQL use an index for a condition only when the condition's
functions are leakproof. ``lower()`` is not, so the ``lower(…)`` prefix indexes of 0005 were never
used by tenant-scoped queries, yet every import paid to maintain them. ``ix_contacts_tenant_id``
and ``ix_contacts_tenant_id_sms_status`` repeat the leading columns of other indexes.

Revision ID: 0008
Revises: 0003, 0004, 0005, 0006, 0007
Create Date: 2026-11-22 03:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = ("0003", "0004", "0005", "0006", "0007")
branch_labels = None
depends_on = None

DROPPED = (
    "ix_contacts_tenant_id",
    "ix_contacts_tenant_id_sms_status",
    "ix_contacts_tenant_id_email_prefix",
    "ix_contacts_tenant_id_first_name_prefix",
    "ix_contacts_tenant_id_last_name_prefix",
)


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name="contacts")


def downgrade() -> None:
    op.create_index("ix_contacts_tenant_id", "contacts", ["tenant_id"])
    op.create_index("ix_contacts_tenant_id_sms_status", "contacts", ["tenant_id", "sms_status"])
    for column in ("email", "first_name", "last_name"):
        op.execute(
            f"CREATE INDEX ix_contacts_tenant_id_{column}_prefix "
            f"ON contacts (tenant_id, lower({column}) text_pattern_ops)"
        )
