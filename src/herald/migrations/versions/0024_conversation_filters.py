"""conversation filters: the channel and tag filters of the inbox list read an index

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 10:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_conversations_tenant_id_channel_id_last_message_at",
        "conversations",
        ["tenant_id", "channel_id", "last_message_at", "id"],
    )
    op.create_index("ix_conversations_tags", "conversations", ["tags"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_conversations_tags", table_name="conversations", postgresql_using="gin")
    op.drop_index(
        "ix_conversations_tenant_id_channel_id_last_message_at", table_name="conversations"
    )
