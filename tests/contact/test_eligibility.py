"""The audience conditions, checked on real rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from herald.contact.dnc_hash import phone_hash
from herald.contact.eligibility import Purpose, eligible, eligible_ids
from herald.contact.models import (
    ChannelKind,
    ConsentStatus,
    Contact,
    DncReason,
    DoNotContact,
    SuppressionRule,
)
from herald.kit.database import Database
from tests.conftest import MakeTenant, TenantFixture

NOW = datetime.now(UTC)


async def seed(db: Database, shop: TenantFixture) -> dict[str, UUID]:
    """One contact per reason to exclude, plus the ones that stay in."""
    rows: dict[str, dict[str, Any]] = {
        "fine": {},
        "sms_out": {"sms_status": ConsentStatus.opted_out},
        "whatsapp_out": {"whatsapp_status": ConsentStatus.opted_out},
        "blocked": {"blocked": True},
        "erased": {"erased_at": NOW, "phone_e164": None},
        # Erased but with its number, not blocked, on no list: only erased_at keeps it out.
        "erased_with_phone": {"erased_at": NOW},
        "on_dnc": {},
        "sent_2_days_ago": {"last_sent_at": NOW - timedelta(days=2)},
        "sent_20_days_ago": {"last_sent_at": NOW - timedelta(days=20)},
    }
    ids: dict[str, UUID] = {}
    async with db.tenant_session(shop.id) as session:
        for n, (name, fields) in enumerate(rows.items()):
            contact = Contact(
                tenant_id=shop.id, **{"phone_e164": f"+1415555{3000 + n:04d}", **fields}
            )
            session.add(contact)
            await session.flush()
            ids[name] = contact.id
        dnc_phone = f"+1415555{3000 + list(rows).index('on_dnc'):04d}"
        session.add(
            DoNotContact(
                tenant_id=shop.id,
                phone_e164=None,
                phone_hash=phone_hash(shop.id, dnc_phone),
                reason=DncReason.erased,
            )
        )
        session.add_all(
            [
                SuppressionRule(tenant_id=shop.id, name="week", window_days=7),
                SuppressionRule(
                    tenant_id=shop.id, name="inactive", window_days=30, is_active=False
                ),
                SuppressionRule(
                    tenant_id=shop.id,
                    name="expired",
                    window_days=30,
                    expires_at=NOW - timedelta(days=1),
                ),
                SuppressionRule(
                    tenant_id=shop.id, name="whatsapp month", window_days=30, channel="whatsapp"
                ),
            ]
        )
    return ids


async def audience(
    db: Database, shop: TenantFixture, channel: ChannelKind, purpose: Purpose
) -> set[UUID]:
    async with db.tenant_session(shop.id) as session:
        return set((await session.scalars(eligible_ids(shop.id, channel, purpose))).all())


async def test_eligibility(db: Database, make_tenant: MakeTenant) -> None:
    shop = await make_tenant()
    ids = await seed(db, shop)
    named = {v: k for k, v in ids.items()}

    def names(found: set[UUID]) -> set[str]:
        return {named[i] for i in found}

    assert names(await audience(db, shop, ChannelKind.sms, Purpose.transactional)) == {
        "fine",
        "whatsapp_out",
        "sent_2_days_ago",
        "sent_20_days_ago",
    }
    assert names(await audience(db, shop, ChannelKind.sms, Purpose.marketing)) == {
        "fine",
        "whatsapp_out",
        "sent_20_days_ago",
    }
    assert names(await audience(db, shop, ChannelKind.whatsapp, Purpose.marketing)) == {
        "fine",
        "sms_out",
    }


async def test_other_tenants_rows_never_match(db: Database, make_tenant: MakeTenant) -> None:
    shop, other = await make_tenant(), await make_tenant()
    await seed(db, shop)
    async with db.system_session() as session:
        found = (
            await session.scalars(
                select(Contact.id).where(
                    *eligible(other.id, ChannelKind.sms, Purpose.transactional)
                )
            )
        ).all()
    assert found == []


async def test_other_tenants_rules_never_suppress(db: Database, make_tenant: MakeTenant) -> None:
    """Suppression reads the tenant's own rules even where row-level security does not apply
    (the owner's session): another tenant's longer window leaves this audience alone."""
    shop, other = await make_tenant(), await make_tenant()
    ids = await seed(db, shop)
    async with db.tenant_session(other.id) as session:
        session.add(SuppressionRule(tenant_id=other.id, name="quarter", window_days=90))
    async with db.system_session() as session:
        found = set(
            (
                await session.scalars(
                    select(Contact.id).where(*eligible(shop.id, ChannelKind.sms, Purpose.marketing))
                )
            ).all()
        )
    assert ids["sent_20_days_ago"] in found
    assert ids["sent_2_days_ago"] not in found
