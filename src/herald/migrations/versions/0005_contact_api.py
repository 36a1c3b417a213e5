"""contact api: indexes for the prefix search of the contact list

``text_pattern_ops`` lets ``LIKE 'prefix%'`` use the index whatever the database collation.
Sorting by updated_at, last_name or last_message_at has no index of its own: each extra index
on contacts slows every import, and a top-N sort of one tenant's rows is cheap enough.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-22 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

# name -> indexed expressions after tenant_id (kept in step with herald.contact.models.Contact)
INDEXES = {
    "ix_contacts_tenant_id_phone_prefix": "phone_e164 text_pattern_ops",
    "ix_contacts_tenant_id_email_prefix": "lower(email) text_pattern_ops",
    "ix_contacts_tenant_id_first_name_prefix": "lower(first_name) text_pattern_ops",
    "ix_contacts_tenant_id_last_name_prefix": "lower(last_name) text_pattern_ops",
}


def upgrade() -> None:
    for name, expressions in INDEXES.items():
        op.execute(sa.text(f"CREATE INDEX {name} ON contacts (tenant_id, {expressions})"))


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="contacts")
