"""costs: price lists (platform defaults and tenant overrides) and E.164 calling codes

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-01 04:00:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import phonenumbers
import sqlalchemy as sa
from alembic import op

from herald.kit.ids import new_id
from herald.kit.rls import TENANT_SETTING
from herald.migrations.rls import APP_ROLE, grant_app_role

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

NIL_TENANT = "00000000-0000-0000-0000-000000000000"
"""Stands for the platform in the exclusion constraint, where NULL would never be equal."""
CURRENT_TENANT = f"NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid"
SEEDED_FROM = datetime(2026, 1, 1, tzinfo=UTC)

# Illustrative ballpark list prices in USD (per SMS segment, per WhatsApp message), close to
# the providers' public rates of 2025; operators replace them with their negotiated rates.
SMS_COUNTRIES = ("US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "MX", "IN", "AU", "*")
SMS_PRICES = {
    "twilio": ("0.0083", "0.0083", "0.0463", "0.0925", "0.0854", "0.0870", "0.0900", "0.1240",
               "0.0510", "0.0598", "0.0832", "0.0515", "0.1000"),
    "vonage": ("0.0081", "0.0081", "0.0449", "0.0850", "0.0780", "0.0800", "0.0810", "0.1100",
               "0.0460", "0.0530", "0.0750", "0.0480", "0.0950"),
    "mitto": ("0.0070", "0.0075", "0.0350", "0.0750", "0.0650", "0.0650", "0.0700", "0.0900",
              "0.0400", "0.0450", "0.0300", "0.0400", "0.0800"),
}  # fmt: skip
WHATSAPP_CATEGORIES = ("marketing", "utility", "authentication", "service")
WHATSAPP_PRICES = {
    "US": ("0.0250", "0.0040", "0.0135", "0"),
    "GB": ("0.0529", "0.0220", "0.0358", "0"),
    "DE": ("0.1365", "0.0550", "0.0768", "0"),
    "BR": ("0.0625", "0.0080", "0.0315", "0"),
    "MX": ("0.0436", "0.0100", "0.0239", "0"),
    "IN": ("0.0107", "0.0014", "0.0014", "0"),
    "*": ("0.0604", "0.0077", "0.0171", "0"),
}
SIMULATOR_PRICE = "0.0050"


def _micros(price: str) -> int:
    return int(Decimal(price) * 1_000_000)


def _seed_rows() -> list[dict[str, object]]:
    rows: list[tuple[str, str, str, str, str]] = [
        (provider, "sms", country, "segment", price)
        for provider, prices in SMS_PRICES.items()
        for country, price in zip(SMS_COUNTRIES, prices, strict=True)
    ]
    rows += [
        ("whatsapp_cloud", "whatsapp", country, category, price)
        for country, prices in WHATSAPP_PRICES.items()
        for category, price in zip(WHATSAPP_CATEGORIES, prices, strict=True)
    ]
    rows.append(("simulator", "sms", "*", "segment", SIMULATOR_PRICE))
    rows += [("simulator", "whatsapp", "*", c, SIMULATOR_PRICE) for c in WHATSAPP_CATEGORIES]
    return [
        {
            "id": new_id(),
            "provider": provider,
            "kind": kind,
            "country": country,
            "unit": unit,
            "unit_price_micros": _micros(price),
            "currency": "USD",
            "valid_from": SEEDED_FROM,
        }
        for provider, kind, country, unit, price in rows
    ]


def _calling_codes() -> list[dict[str, str]]:
    """Each geographic calling code with its main region (phonenumbers lists it first)."""
    return [
        {"code": str(code), "region": regions[0]}
        for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items())
        if regions[0] != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    prices = op.create_table(
        "prices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("unit_price_micros", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="ck_prices_period"),
        sa.CheckConstraint("unit_price_micros >= 0", name="ck_prices_not_negative"),
        sa.CheckConstraint(
            "(kind = 'sms' AND unit = 'segment') OR (kind = 'whatsapp' AND unit <> 'segment')",
            name="ck_prices_unit_of_kind",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_prices_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_prices"),
    )
    op.create_index("ix_prices_tenant_id", "prices", ["tenant_id"])
    op.execute(
        f"""
        ALTER TABLE prices ADD CONSTRAINT ex_prices_one_price_at_a_time EXCLUDE USING gist (
            (COALESCE(tenant_id, '{NIL_TENANT}'::uuid)) WITH =,
            provider WITH =, kind WITH =, country WITH =, unit WITH =,
            tstzrange(valid_from, valid_to, '[)') WITH &&
        )
        """
    )
    op.bulk_insert(prices, _seed_rows())
    _price_policies()

    codes = op.create_table(
        "calling_codes",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_calling_codes"),
    )
    op.bulk_insert(codes, _calling_codes())
    grant_app_role("calling_codes", "SELECT")


def _price_policies() -> None:
    """Every tenant reads the platform's rows and its own; it writes only its own. Permissive
    policies per command, so a platform row is visible to SELECT yet out of reach of UPDATE
    and DELETE (their USING clauses do not match it) and INSERT cannot create one."""
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON prices TO {APP_ROLE}")
    op.execute("ALTER TABLE prices ENABLE ROW LEVEL SECURITY")
    mine = f"tenant_id = {CURRENT_TENANT}"
    op.execute(
        f"CREATE POLICY prices_read ON prices FOR SELECT TO {APP_ROLE} "
        f"USING (tenant_id IS NULL OR {mine})"
    )
    op.execute(
        f"CREATE POLICY prices_insert ON prices FOR INSERT TO {APP_ROLE} WITH CHECK ({mine})"
    )
    op.execute(
        f"CREATE POLICY prices_update ON prices FOR UPDATE TO {APP_ROLE} "
        f"USING ({mine}) WITH CHECK ({mine})"
    )
    op.execute(f"CREATE POLICY prices_delete ON prices FOR DELETE TO {APP_ROLE} USING ({mine})")


def downgrade() -> None:
    op.drop_table("calling_codes")
    op.drop_table("prices")
