"""webhook_events and webhook_rejections: every accepted provider callback, raw, and the count
of refused ones per channel

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from herald.migrations.rls import enable_tenant_rls

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def _tenant() -> sa.Column[object]:
    return sa.Column(
        "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def _channel() -> sa.Column[object]:
    return sa.Column(
        "channel_id", sa.Uuid(), sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        _channel(),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("event_ids", postgresql.ARRAY(sa.String(200)), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error", sa.String(500)),
        sa.UniqueConstraint("channel_id", "dedupe_key"),
    )
    op.create_index(
        "ix_webhook_events_due",
        "webhook_events",
        ["next_attempt_at"],
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_index("ix_webhook_events_received_at", "webhook_events", ["received_at"])
    op.create_index(
        "ix_webhook_events_tenant_id_channel_id", "webhook_events", ["tenant_id", "channel_id"]
    )
    op.create_table(
        "webhook_rejections",
        _channel(),
        _tenant(),
        sa.Column("count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("channel_id"),
    )
    op.create_index("ix_webhook_rejections_tenant_id", "webhook_rejections", ["tenant_id"])
    enable_tenant_rls("webhook_events")
    enable_tenant_rls("webhook_rejections")


def downgrade() -> None:
    op.drop_table("webhook_rejections")
    op.drop_table("webhook_events")
