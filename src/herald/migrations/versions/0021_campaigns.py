"""campaigns, their variants, drip steps and enrolments; messages point at their campaign

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-01 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from herald.migrations.rls import enable_tenant_rls

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = "0011"
"""Variants and steps point at saved templates (0011)."""

NOW = sa.text("now()")
TABLES = ("campaigns", "campaign_variants", "campaign_steps", "campaign_enrollments")


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


def _jsonb(name: str, *, required: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        postgresql.JSONB(),
        nullable=not required,
        server_default="{}" if required else None,
    )


def _campaign_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "campaign_id"],
        ["campaigns.tenant_id", "campaigns.id"],
        name=f"fk_{table}_campaign",
        ondelete="CASCADE",
    )


def _content() -> list[sa.Column[object]]:
    return [
        sa.Column("body", sa.Text()),
        sa.Column("template_id", sa.Uuid(), sa.ForeignKey("templates.id", ondelete="RESTRICT")),
        sa.Column(
            "whatsapp_template_id",
            sa.Uuid(),
            sa.ForeignKey("whatsapp_templates.id", ondelete="RESTRICT"),
        ),
        _jsonb("params", required=True),
    ]


def _create_campaigns() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel_id", sa.Uuid()),
        sa.Column(
            "sender_pool_id", sa.Uuid(), sa.ForeignKey("sender_pools.id", ondelete="RESTRICT")
        ),
        sa.Column("purpose", sa.String(20), nullable=False, server_default="marketing"),
        sa.Column("mode", sa.String(20), nullable=False, server_default="broadcast"),
        sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
        sa.Column("status_reason", sa.String(100)),
        _jsonb("audience", required=True),
        _jsonb("exclusions", required=True),
        sa.Column("target_url", sa.String(2048)),
        sa.Column("discount_code", sa.String(100)),
        _jsonb("schedule"),
        _when("next_run_at"),
        sa.Column("run_count", sa.Integer(), nullable=False, server_default="0"),
        _jsonb("ab"),
        _jsonb("quiet_hours"),
        _jsonb("frequency_cap"),
        _when("launched_at"),
        _when("completed_at"),
        sa.Column("created_by", sa.String(100)),
        _when("created_at", required=True),
        _when("updated_at", required=True),
        sa.UniqueConstraint("tenant_id", "id", name="uq_campaigns_tenant_id_id"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "channel_id"],
            ["channels.tenant_id", "channels.id"],
            name="fk_campaigns_channel",
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint("channel_id IS NULL OR sender_pool_id IS NULL", name="one_sender"),
    )
    op.create_index("ix_campaigns_tenant_id_status_id", "campaigns", ["tenant_id", "status", "id"])
    op.create_index(
        "ix_campaigns_next_run_at",
        "campaigns",
        ["next_run_at"],
        postgresql_where=sa.text("next_run_at IS NOT NULL"),
    )


def _create_children() -> None:
    op.create_table(
        "campaign_variants",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(1), nullable=False),
        sa.Column("share_percent", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_content(),
        _campaign_fk("campaign_variants"),
        sa.UniqueConstraint("campaign_id", "label"),
        sa.CheckConstraint("share_percent BETWEEN 0 AND 100", name="share_percent"),
    )
    op.create_table(
        "campaign_steps",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _tenant(),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        *_content(),
        _campaign_fk("campaign_steps"),
        sa.UniqueConstraint("campaign_id", "position"),
        sa.CheckConstraint("delay_minutes >= 0", name="delay_minutes"),
    )
    op.create_table(
        "campaign_enrollments",
        _tenant(),
        sa.Column("campaign_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "contact_id",
            sa.Uuid(),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("step_position", sa.Integer(), nullable=False, server_default="0"),
        _when("next_step_at"),
        sa.Column("stopped_reason", sa.String(20)),
        _when("enrolled_at", required=True),
        _when("updated_at", required=True),
        _campaign_fk("campaign_enrollments"),
    )
    op.create_index(
        "ix_campaign_enrollments_next_step_at",
        "campaign_enrollments",
        ["next_step_at"],
        postgresql_where=sa.text("stopped_reason IS NULL"),
    )


def _extend_messages() -> None:
    op.add_column(
        "messages",
        sa.Column("campaign_round", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("messages", sa.Column("variant_id", sa.Uuid()))
    op.drop_constraint("uq_messages_tenant_id_campaign_id_contact_id", "messages")
    op.create_unique_constraint(
        "uq_messages_tenant_id_campaign_id_campaign_round_contact_id",
        "messages",
        ["tenant_id", "campaign_id", "campaign_round", "contact_id"],
    )
    op.create_foreign_key(
        "fk_messages_campaign",
        "messages",
        "campaigns",
        ["tenant_id", "campaign_id"],
        ["tenant_id", "id"],
    )
    op.create_index(
        "ix_messages_tenant_id_campaign_id_status",
        "messages",
        ["tenant_id", "campaign_id", "status"],
    )
    op.create_index(
        "ix_events_campaign_id_type",
        "events",
        ["campaign_id", "type"],
        postgresql_where=sa.text("campaign_id IS NOT NULL"),
    )


def upgrade() -> None:
    _create_campaigns()
    _create_children()
    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
        enable_tenant_rls(table)
    _extend_messages()


def downgrade() -> None:
    op.drop_index("ix_events_campaign_id_type", "events")
    op.drop_index("ix_messages_tenant_id_campaign_id_status", "messages")
    op.drop_constraint("fk_messages_campaign", "messages")
    op.drop_constraint("uq_messages_tenant_id_campaign_id_campaign_round_contact_id", "messages")
    op.create_unique_constraint(
        "uq_messages_tenant_id_campaign_id_contact_id",
        "messages",
        ["tenant_id", "campaign_id", "contact_id"],
    )
    op.drop_column("messages", "variant_id")
    op.drop_column("messages", "campaign_round")
    for table in reversed(TABLES):
        op.drop_table(table)
