"""budgets: a tenant's daily and monthly spending limits and what the current periods spent

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-01 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.migrations.rls import enable_tenant_rls

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _money(name: str, *, nullable: bool = False) -> sa.Column[int]:
    if nullable:
        return sa.Column(name, sa.BigInteger(), nullable=True)
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def _time(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("daily_limit", nullable=True),
        _money("monthly_limit", nullable=True),
        _time("day_start"),
        _money("day_spent"),
        _time("month_start"),
        _money("month_spent"),
        _money("last_grant"),
        sa.Column("reached", sa.String(30), nullable=True),
        _time("reached_until"),
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
            name=op.f("fk_budgets_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_budgets_tenant_id")),
        sa.CheckConstraint(
            "daily_limit IS NULL OR daily_limit >= 0", name=op.f("ck_budgets_daily_limit_sign")
        ),
        sa.CheckConstraint(
            "monthly_limit IS NULL OR monthly_limit >= 0",
            name=op.f("ck_budgets_monthly_limit_sign"),
        ),
    )
    op.create_index(op.f("ix_budgets_tenant_id"), "budgets", ["tenant_id"])
    enable_tenant_rls("budgets")


def downgrade() -> None:
    op.drop_table("budgets")
