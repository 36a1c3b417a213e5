"""inbox: conversations, notes, canned replies, keyword settings, inbound contents, compliance
replies; one inbound message per provider message id and channel

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-01 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from herald.migrations.rls import enable_tenant_rls

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def _tenant() -> sa.Column[object]:
    return sa.Column(
        "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def _when(name: str, *, required: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=not required,
        server_default=NOW if required else None,
    )


def _message(name: str, *, primary: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.Uuid(),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=primary,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column(
            "contact_id",
            sa.Uuid(),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "channel_id",
            sa.Uuid(),
            sa.ForeignKey("channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        _when("snoozed_until"),
        sa.Column("assigned_to", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.Column("unread_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_message_id", sa.Uuid(), sa.ForeignKey("messages.id", ondelete="SET NULL")),
        _when("last_message_at", required=True),
        sa.Column("last_direction", sa.String(8)),
        _when("window_expires_at"),
        _when("created_at", required=True),
        _when("updated_at", required=True),
        sa.UniqueConstraint("tenant_id", "contact_id", "channel_id"),
    )
    op.create_index("ix_conversations_tenant_id", "conversations", ["tenant_id"])
    op.create_index(
        "ix_conversations_tenant_id_last_message_at",
        "conversations",
        ["tenant_id", "last_message_at", "id"],
    )
    op.create_index(
        "ix_conversations_tenant_id_assigned_to_last_message_at",
        "conversations",
        ["tenant_id", "assigned_to", "last_message_at", "id"],
    )
    enable_tenant_rls("conversations")

    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column(
            "conversation_id",
            sa.Uuid(),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author", sa.String(100)),
        sa.Column("body", sa.Text(), nullable=False),
        _when("created_at", required=True),
    )
    op.create_index("ix_conversation_notes_tenant_id", "conversation_notes", ["tenant_id"])
    op.create_index(
        "ix_conversation_notes_conversation_id_created_at",
        "conversation_notes",
        ["conversation_id", "created_at"],
    )
    enable_tenant_rls("conversation_notes")

    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8)),
        _when("created_at", required=True),
        _when("updated_at", required=True),
        sa.UniqueConstraint("tenant_id", "name"),
    )
    op.create_index("ix_canned_replies_tenant_id", "canned_replies", ["tenant_id"])
    enable_tenant_rls("canned_replies")

    op.create_table(
        "keyword_settings",
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("config", postgresql.JSONB(), nullable=False, server_default="{}"),
        _when("created_at", required=True),
        _when("updated_at", required=True),
    )
    enable_tenant_rls("keyword_settings")

    op.create_table(
        "inbound_contents",
        _message("message_id", primary=True),
        _tenant(),
        sa.Column("media", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("location", postgresql.JSONB()),
    )
    op.create_index("ix_inbound_contents_tenant_id", "inbound_contents", ["tenant_id"])
    enable_tenant_rls("inbound_contents")

    op.create_table(
        "compliance_replies",
        _message("message_id", primary=True),
        _tenant(),
        _message("inbound_message_id"),
        sa.Column("keyword", sa.String(20), nullable=False),
        _when("created_at", required=True),
        sa.UniqueConstraint("inbound_message_id"),
    )
    op.create_index("ix_compliance_replies_tenant_id", "compliance_replies", ["tenant_id"])
    enable_tenant_rls("compliance_replies")

    # A provider's retry of an inbound message must not store it twice.
    op.create_index(
        "uq_messages_inbound_channel_id_provider_message_id",
        "messages",
        ["channel_id", "provider_message_id"],
        unique=True,
        postgresql_where=sa.text("direction = 'inbound'"),
    )


def downgrade() -> None:
    op.drop_index("uq_messages_inbound_channel_id_provider_message_id", table_name="messages")
    for table in (
        "compliance_replies",
        "inbound_contents",
        "keyword_settings",
        "canned_replies",
        "conversation_notes",
        "conversations",
    ):
        op.drop_table(table)
