"""links: short links with their UTM parameters, discount code and click counters

The token is unique across tenants (the redirect knows no tenant). A fill factor of 80 leaves
room in each page for the click counters' updates to stay heap-only (no index entry per click).

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-01 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.migrations.rls import enable_tenant_rls

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None


def _utm(name: str) -> sa.Column[str]:
    return sa.Column(f"utm_{name}", sa.String(length=200), nullable=True)


def upgrade() -> None:
    op.create_table(
        "short_links",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column("redirect_url", sa.Text(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        *(_utm(name) for name in ("source", "medium", "campaign", "content", "term")),
        sa.Column("discount_code", sa.String(length=100), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clicks", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("human_clicks", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("first_clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_clicked_at", sa.DateTime(timezone=True), nullable=True),
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
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_short_links_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_short_links_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_short_links")),
        sa.UniqueConstraint("token", name=op.f("uq_short_links_token")),
    )
    op.execute("ALTER TABLE short_links SET (fillfactor = 80)")
    op.create_index(op.f("ix_short_links_tenant_id"), "short_links", ["tenant_id"])
    op.create_index(
        "ix_short_links_tenant_id_campaign_id", "short_links", ["tenant_id", "campaign_id"]
    )
    op.create_index("ix_short_links_contact_id", "short_links", ["contact_id"])
    enable_tenant_rls("short_links")


def downgrade() -> None:
    op.drop_table("short_links")
