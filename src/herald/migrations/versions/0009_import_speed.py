"""contacts: drop the phone prefix index, which the app role can never use

The contact list's phone search is a ``LIKE 'prefix%'`` inside an ``OR`` with ``lower(…)``
prefixes. Neither ``LIKE`` (``textlike``) nor ``lower()`` is leakproof, so under row-level
security PostgreSQL cannot turn that condition into an index range: the
``text_pattern_ops`` index of 0005 served no tenant-scoped query, and every import paid to
maintain it. Exact phone lookups keep the unique ``(tenant_id, phone_e164)`` index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 03:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_contacts_tenant_id_phone_prefix", table_name="contacts")


def downgrade() -> None:
    op.execute(
        sa.text(
            "CREATE INDEX ix_contacts_tenant_id_phone_prefix "
            "ON contacts (tenant_id, phone_e164 text_pattern_ops)"
        )
    )
