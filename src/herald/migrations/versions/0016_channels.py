"""channels: sender accounts on providers, sender pools and sticky senders

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-01 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.migrations.rls import enable_tenant_rls

revision = "0016"
down_revision = "0010"
branch_labels = None
depends_on = "0012"
"""WhatsApp templates (0012) get their foreign key to the channel here."""


def _tenant() -> sa.Column[object]:
    return sa.Column(
        "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def _times() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("sender", sa.String(32), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("waba_id", sa.String(64)),
        sa.Column("phone_number_id", sa.String(64)),
        sa.Column("display_name", sa.String(200)),
        sa.Column("quality_rating", sa.String(16)),
        sa.Column("messaging_tier", sa.String(32)),
        sa.Column("rate_per_second", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("rate_per_minute", sa.Integer()),
        sa.Column("rate_per_day", sa.Integer()),
        sa.Column("warmup_started_on", sa.Date()),
        sa.Column("warmup_initial", sa.Integer(), nullable=False, server_default="50"),
        sa.Column("status", sa.String(20), nullable=False, server_default="active"),
        sa.Column("status_reason", sa.String(500)),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_failure_at", sa.DateTime(timezone=True)),
        sa.Column("probe_after", sa.DateTime(timezone=True)),
        *_times(),
        sa.UniqueConstraint("tenant_id", "name"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_channels_tenant_id_id"),
        sa.CheckConstraint("rate_per_second > 0", name="ck_channels_rate_per_second"),
    )
    op.create_index(
        "ix_channels_provider_phone_number_id", "channels", ["provider", "phone_number_id"]
    )
    op.create_table(
        "sender_pools",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        *_times(),
        sa.UniqueConstraint("tenant_id", "name"),
    )
    op.create_table(
        "sender_pool_members",
        _tenant(),
        sa.Column(
            "pool_id",
            sa.Uuid(),
            sa.ForeignKey("sender_pools.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "channel_id",
            sa.Uuid(),
            sa.ForeignKey("channels.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "sticky_senders",
        _tenant(),
        sa.Column(
            "pool_id",
            sa.Uuid(),
            sa.ForeignKey("sender_pools.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "contact_id",
            sa.Uuid(),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "channel_id",
            sa.Uuid(),
            sa.ForeignKey("channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    for table in ("channels", "sender_pools", "sender_pool_members", "sticky_senders"):
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
        enable_tenant_rls(table)
    op.execute(
        "ALTER TABLE whatsapp_templates ADD CONSTRAINT fk_whatsapp_templates_channel "
        "FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) "
        "ON DELETE SET NULL (channel_id)"
    )


def downgrade() -> None:
    op.drop_constraint("fk_whatsapp_templates_channel", "whatsapp_templates")
    for table in ("sticky_senders", "sender_pool_members", "sender_pools", "channels"):
        op.drop_table(table)
