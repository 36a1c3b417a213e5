"""whatsapp templates: authored templates, their review status and history

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from herald.migrations.rls import enable_tenant_rls

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLE = "whatsapp_templates"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=15), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("parameter_format", sa.String(length=20), nullable=False),
        sa.Column("components", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rejection_reason", sa.String(length=1000), nullable=True),
        sa.Column("quality_rating", sa.String(length=20), nullable=False),
        sa.Column("meta_template_id", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_history", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_whatsapp_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_templates")),
        sa.UniqueConstraint(
            "tenant_id",
            "channel_id",
            "name",
            "language",
            name=op.f("uq_whatsapp_templates_tenant_id_channel_id_name_language"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(op.f("ix_whatsapp_templates_tenant_id"), TABLE, ["tenant_id"])
    op.create_index("ix_whatsapp_templates_tenant_id_status", TABLE, ["tenant_id", "status"])
    op.create_index(
        "ix_whatsapp_templates_meta_template_id",
        TABLE,
        ["meta_template_id"],
        postgresql_where=sa.text("meta_template_id IS NOT NULL"),
    )
    enable_tenant_rls(TABLE)


def downgrade() -> None:
    op.drop_table(TABLE)
