"""The send pipeline's entry points: links for a whole audience in one insert, short URLs."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import delete, func, select

from herald.contact.models import Contact
from herald.kit.database import Database
from herald.kit.errors import Unprocessable
from herald.link.models import ShortLink
from herald.link.schemas import Utm
from herald.link.service import create_links, short_url_for
from herald.link.tokens import is_genuine, token_key
from herald.settings import Settings
from herald.tenant.schemas import TenantSettings
from tests.conftest import TenantFixture
from tests.link.helpers import counting
from tests.segment.helpers import add_contacts

TARGET = "https://shop.example/sale"


def test_short_urls_use_the_tenants_domain_or_the_public_url(settings: Settings) -> None:
    public = settings.model_copy(update={"public_url": "https://herald.example/"})
    assert short_url_for(public, TenantSettings(), "T0K") == "https://herald.example/l/T0K"
    own = TenantSettings(short_link_domain="go.shop.example")
    assert short_url_for(public, own, "T0K") == "https://go.shop.example/l/T0K"


async def test_a_campaigns_links_are_made_in_one_insert(
    db: Database, settings: Settings, tenant: TenantFixture
) -> None:
    contacts = await add_contacts(db, tenant.id, *({"first_name": f"C{i}"} for i in range(300)))
    campaign_id = uuid4()
    recipients = [(contact_id, uuid4()) for contact_id in contacts]
    with counting(db) as seen:
        async with db.tenant_session(tenant.id) as session:
            urls = await create_links(
                session,
                settings,
                tenant.id,
                TARGET,
                recipients,
                campaign_id=campaign_id,
                utm=Utm(medium="whatsapp", campaign="june"),
            )
    inserts = [sql for sql in seen.sql if sql.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1

    assert set(urls) == set(contacts)
    tokens = {url.rsplit("/", 1)[1] for url in urls.values()}
    assert len(tokens) == 300
    assert all(is_genuine(token_key(settings), token) for token in tokens)
    async with db.tenant_session(tenant.id) as session:
        rows = (
            await session.scalars(select(ShortLink).where(ShortLink.campaign_id == campaign_id))
        ).all()
    assert {(r.contact_id, r.message_id) for r in rows} == set(recipients)
    assert {r.redirect_url for r in rows} == {
        f"{TARGET}?utm_source=herald&utm_medium=whatsapp&utm_campaign=june"
    }


async def test_no_recipients_no_links(
    db: Database, settings: Settings, tenant: TenantFixture
) -> None:
    async with db.tenant_session(tenant.id) as session:
        assert await create_links(session, settings, tenant.id, TARGET, []) == {}


async def test_a_contact_twice_is_refused(
    db: Database, settings: Settings, tenant: TenantFixture
) -> None:
    (contact_id,) = await add_contacts(db, tenant.id, {"first_name": "Ada"})
    async with db.tenant_session(tenant.id) as session:
        with pytest.raises(Unprocessable, match="once"):
            await create_links(
                session, settings, tenant.id, TARGET, [(contact_id, None), (contact_id, None)]
            )


async def test_an_unsafe_target_is_refused(
    db: Database, settings: Settings, tenant: TenantFixture
) -> None:
    async with db.tenant_session(tenant.id) as session:
        with pytest.raises(Unprocessable, match="target_url"):
            await create_links(session, settings, tenant.id, "javascript:alert(1)", [])


async def test_deleting_a_contact_keeps_its_links(
    db: Database, settings: Settings, tenant: TenantFixture
) -> None:
    (contact_id,) = await add_contacts(db, tenant.id, {"first_name": "Ada"})
    async with db.tenant_session(tenant.id) as session:
        await create_links(session, settings, tenant.id, TARGET, [(contact_id, None)])
    async with db.tenant_session(tenant.id) as session:
        await session.execute(delete(Contact).where(Contact.id == contact_id))
    async with db.tenant_session(tenant.id) as session:
        orphans = await session.scalar(
            select(func.count()).where(
                ShortLink.tenant_id == tenant.id, ShortLink.contact_id.is_(None)
            )
        )
    assert orphans == 1


async def test_row_level_security_hides_other_tenants_links(
    db: Database, settings: Settings, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    (contact_id,) = await add_contacts(db, tenant.id, {"first_name": "Ada"})
    async with db.tenant_session(tenant.id) as session:
        await create_links(session, settings, tenant.id, TARGET, [(contact_id, None)])
    async with db.tenant_session(other_tenant.id) as session:
        unfiltered = await session.scalars(select(ShortLink.tenant_id))
        assert set(unfiltered.all()) <= {other_tenant.id}
