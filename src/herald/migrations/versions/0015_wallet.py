"""wallet: a wallet per tenant and its append-only ledger of micro-unit amounts

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-01 04:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.migrations.rls import APP_ROLE, enable_tenant_rls

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def _money(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "wallets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("billing_mode", sa.String(length=20), nullable=False),
        _money("balance"),
        _money("lifetime_purchased"),
        _money("lifetime_spent"),
        _money("lifetime_refunded"),
        _money("lifetime_adjusted"),
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
        _tenant_fk("wallets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_wallets_tenant_id")),
        sa.CheckConstraint(
            "billing_mode IN ('postpaid', 'prepaid')", name=op.f("ck_wallets_billing_mode")
        ),
    )
    op.create_table(
        "wallet_transactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("reference_type", sa.String(length=40), nullable=True),
        sa.Column("reference_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        _tenant_fk("wallet_transactions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_transactions")),
        sa.UniqueConstraint(
            "tenant_id",
            "kind",
            "idempotency_key",
            name=op.f("uq_wallet_transactions_tenant_id_kind_idempotency_key"),
        ),
        sa.CheckConstraint(
            "(kind = 'debit' AND amount < 0) OR (kind IN ('purchase', 'refund') AND amount > 0)"
            " OR (kind = 'adjustment' AND amount <> 0)",
            name=op.f("ck_wallet_transactions_amount_sign"),
        ),
    )
    op.create_index(
        "ix_wallet_transactions_tenant_id_created_at",
        "wallet_transactions",
        ["tenant_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
    )
    op.create_index(
        "ix_wallet_transactions_reference",
        "wallet_transactions",
        ["tenant_id", "reference_type", "reference_id"],
        postgresql_where=sa.text("reference_id IS NOT NULL"),
    )
    enable_tenant_rls("wallets")
    op.execute(f"REVOKE DELETE, TRUNCATE ON wallets FROM {APP_ROLE}")
    enable_tenant_rls("wallet_transactions")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON wallet_transactions FROM {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("wallet_transactions")
    op.drop_table("wallets")
