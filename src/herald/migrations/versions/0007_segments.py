"""segments: segments, materialized memberships, a consent index on contacts

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-22 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from herald.migrations.rls import enable_tenant_rls

revision = "0007"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("preset", sa.String(length=200), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
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
            name=op.f("fk_segments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_segments_tenant_id_name")),
    )
    op.create_index(op.f("ix_segments_tenant_id"), "segments", ["tenant_id"], unique=False)
    op.create_table(
        "segment_memberships",
        sa.Column("segment_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_segment_memberships_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_memberships_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_segment_memberships_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_id", "contact_id", name=op.f("pk_segment_memberships")),
    )
    op.create_index(
        "ix_segment_memberships_contact_id", "segment_memberships", ["contact_id"], unique=False
    )
    op.create_index(
        op.f("ix_segment_memberships_tenant_id"),
        "segment_memberships",
        ["tenant_id"],
        unique=False,
    )
    op.create_index(
        "ix_contacts_tenant_id_sms_status_created_at",
        "contacts",
        ["tenant_id", "sms_status", "created_at"],
        unique=False,
        postgresql_include=["tags"],
        postgresql_where=sa.text("erased_at IS NULL"),
    )
    for table in TABLES:
        enable_tenant_rls(table)


TABLES = ("segments", "segment_memberships")


def downgrade() -> None:
    op.drop_index("ix_contacts_tenant_id_sms_status_created_at", table_name="contacts")
    op.drop_index(op.f("ix_segment_memberships_tenant_id"), table_name="segment_memberships")
    op.drop_index("ix_segment_memberships_contact_id", table_name="segment_memberships")
    op.drop_table("segment_memberships")
    op.drop_index(op.f("ix_segments_tenant_id"), table_name="segments")
    op.drop_table("segments")
