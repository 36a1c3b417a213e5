"""messages and events: every message either way, and each state change it goes through

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 04:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from herald.migrations.rls import enable_tenant_rls

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def _when(name: str, *, required: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=not required,
        server_default=NOW if required else None,
    )


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "channel_id",
            sa.Uuid(),
            sa.ForeignKey("channels.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("contact_id", sa.Uuid(), sa.ForeignKey("contacts.id", ondelete="SET NULL")),
        sa.Column("campaign_id", sa.Uuid()),
        sa.Column("direction", sa.String(20), nullable=False, server_default="outbound"),
        sa.Column("purpose", sa.String(20), nullable=False, server_default="transactional"),
        sa.Column("to_address", sa.String(32)),
        sa.Column("from_address", sa.String(32)),
        sa.Column("body", sa.Text()),
        sa.Column("template", postgresql.JSONB()),
        sa.Column("encoding", sa.String(8)),
        sa.Column("segments", sa.Integer()),
        sa.Column("cost_micros", sa.BigInteger()),
        sa.Column("currency", sa.String(3)),
        sa.Column("status", sa.String(20), nullable=False, server_default="queued"),
        sa.Column("provider_message_id", sa.String(100)),
        sa.Column("error_code", sa.String(40)),
        sa.Column("error_reason", sa.String(500)),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _when("next_attempt_at", required=True),
        sa.Column("idempotency_key", sa.String(200)),
        _when("queued_at", required=True),
        _when("sending_at"),
        _when("sent_at"),
        _when("delivered_at"),
        _when("read_at"),
        _when("failed_at"),
        _when("received_at"),
        _when("created_at", required=True),
        _when("updated_at", required=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key"),
        sa.UniqueConstraint("tenant_id", "campaign_id", "contact_id"),
    )
    op.create_index(
        "ix_messages_due",
        "messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index("ix_messages_tenant_id_created_at", "messages", ["tenant_id", "created_at"])
    op.create_index("ix_messages_tenant_id_contact_id", "messages", ["tenant_id", "contact_id"])
    op.create_index(
        "ix_messages_channel_id_provider_message_id",
        "messages",
        ["channel_id", "provider_message_id"],
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("message_id", sa.Uuid(), sa.ForeignKey("messages.id", ondelete="CASCADE")),
        sa.Column("contact_id", sa.Uuid()),
        sa.Column("campaign_id", sa.Uuid()),
        _when("occurred_at", required=True),
        sa.Column("data", postgresql.JSONB(), nullable=False, server_default="{}"),
    )
    op.create_index("ix_events_tenant_id_occurred_at", "events", ["tenant_id", "occurred_at"])
    op.create_index("ix_events_message_id", "events", ["message_id"])
    enable_tenant_rls("messages")
    enable_tenant_rls("events")


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("messages")
