"""Short links: creation (one or a campaign's worth at once), reads, and following a token.

A token is a capability: whoever holds it may follow the link, so the redirect resolves it by
token alone, across tenants, once its MAC has proved it genuine. Everything else about a link
is tenant-scoped like any other resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.database import Database
from herald.kit.errors import NotFound, Unprocessable
from herald.kit.ids import new_id
from herald.kit.pagination import PageParams, Slice
from herald.kit.urls import check_target
from herald.link.agents import Visitor
from herald.link.models import ShortLink
from herald.link.repository import Click, LinkRepository, LinkValues, NewLink, record_click
from herald.link.schemas import DEFAULT_EXPIRY_DAYS, LinkCreate, LinkRead, Utm
from herald.link.tokens import TOKEN_LENGTH, is_genuine, new_token, token_key
from herald.link.urls import redirect_for
from herald.settings import Settings
from herald.tenant.schemas import TenantSettings
from herald.tenant.service import get_tenant, settings_of

REDIRECT_PATH = "/l/"
PLACEHOLDER_TOKEN = "0" * TOKEN_LENGTH
"""Stands for a recipient's token in a text composed before the links exist. Its MAC cannot
verify, so should it ever be sent, the redirect answers 'unknown link' without a lookup."""


def short_url_for(settings: Settings, tenant_settings: TenantSettings, token: str) -> str:
    """On the tenant's own short-link domain when it has one, else on Herald's public URL."""
    if tenant_settings.short_link_domain:
        return f"https://{tenant_settings.short_link_domain}{REDIRECT_PATH}{token}"
    return f"{settings.base_url.rstrip('/')}{REDIRECT_PATH}{token}"


def tracked_link_placeholder(tenant_settings: TenantSettings) -> str | None:
    """The tenant's short URL with the placeholder token, for a campaign to compose its text
    with before each recipient's link is made: the same length as every real one, so the
    text's encoding and segments (and its cost) are already right. None without a short-link
    domain: the tenant then sends its target URL as it is."""
    if not tenant_settings.short_link_domain:
        return None
    return f"https://{tenant_settings.short_link_domain}{REDIRECT_PATH}{PLACEHOLDER_TOKEN}"


async def _shared_values(
    session: AsyncSession,
    tenant_id: UUID,
    target_url: str,
    *,
    campaign_id: UUID | None,
    utm: Utm,
    discount_code: str | None,
    expires_in_days: int,
) -> tuple[LinkValues, TenantSettings]:
    try:
        check_target(target_url)
    except ValueError as exc:
        raise Unprocessable(
            f"target_url: {exc}.", errors=[{"field": "target_url", "message": str(exc)}]
        ) from exc
    tenant_settings = settings_of(await get_tenant(session, tenant_id))
    utm_values = utm.model_dump()
    values = LinkValues(
        tenant_id=tenant_id,
        target_url=target_url,
        redirect_url=redirect_for(
            target_url, utm_values, discount_code, tenant_settings.discount_url
        ),
        campaign_id=campaign_id,
        utm=utm_values,
        discount_code=discount_code,
        expires_at=datetime.now(UTC) + timedelta(days=expires_in_days),
    )
    return values, tenant_settings


async def create_links(
    session: AsyncSession,
    settings: Settings,
    tenant_id: UUID,
    target_url: str,
    recipients: Sequence[tuple[UUID, UUID | None]],
    *,
    campaign_id: UUID | None = None,
    utm: Utm | None = None,
    discount_code: str | None = None,
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
) -> dict[UUID, str]:
    """One link per ``(contact_id, message_id)``, all in one insert; the short URL of each
    contact's link. For the send pipeline, whose contacts come from the tenant's own audience."""
    contact_ids = [contact_id for contact_id, _ in recipients]
    if len(set(contact_ids)) != len(contact_ids):
        raise Unprocessable("Each contact may appear once among the recipients of a link.")
    values, tenant_settings = await _shared_values(
        session,
        tenant_id,
        target_url,
        campaign_id=campaign_id,
        utm=utm or Utm(),
        discount_code=discount_code,
        expires_in_days=expires_in_days,
    )
    key = token_key(settings)
    links = [NewLink(new_id(), new_token(key), c, m) for c, m in recipients]
    if links:
        await LinkRepository(session).insert_many(values, links)
    return {
        link.contact_id: short_url_for(settings, tenant_settings, link.token)
        for link in links
        if link.contact_id is not None
    }


async def create_link(
    session: AsyncSession, settings: Settings, tenant_id: UUID, data: LinkCreate
) -> LinkRead:
    repo = LinkRepository(session)
    if data.contact_id is not None and not await repo.contact_exists(tenant_id, data.contact_id):
        raise Unprocessable(
            f"No contact {data.contact_id} in this account; send the id of one of your contacts "
            "or leave contact_id out.",
            errors=[{"field": "contact_id", "message": "unknown contact"}],
        )
    values, _ = await _shared_values(
        session,
        tenant_id,
        data.target_url,
        campaign_id=data.campaign_id,
        utm=data.utm,
        discount_code=data.discount_code,
        expires_in_days=data.expires_in_days,
    )
    link = NewLink(new_id(), new_token(token_key(settings)), data.contact_id, None)
    await repo.insert_many(values, [link])
    return await get_link(session, settings, tenant_id, link.id)


def to_read(link: ShortLink, settings: Settings, tenant_settings: TenantSettings) -> LinkRead:
    return LinkRead(
        id=link.id,
        token=link.token,
        short_url=short_url_for(settings, tenant_settings, link.token),
        target_url=link.target_url,
        redirect_url=link.redirect_url,
        campaign_id=link.campaign_id,
        contact_id=link.contact_id,
        message_id=link.message_id,
        utm=Utm(
            source=link.utm_source,
            medium=link.utm_medium,
            campaign=link.utm_campaign,
            content=link.utm_content,
            term=link.utm_term,
        ),
        discount_code=link.discount_code,
        created_at=link.created_at,
        expires_at=link.expires_at,
        expired=link.expires_at <= datetime.now(UTC),
        clicks=link.clicks,
        human_clicks=link.human_clicks,
        first_clicked_at=link.first_clicked_at,
        last_clicked_at=link.last_clicked_at,
    )


async def get_link(
    session: AsyncSession, settings: Settings, tenant_id: UUID, link_id: UUID
) -> LinkRead:
    link = await LinkRepository(session).get(tenant_id, link_id)
    if link is None:
        raise NotFound(f"No link {link_id} in this account.")
    tenant_settings = settings_of(await get_tenant(session, tenant_id))
    return to_read(link, settings, tenant_settings)


async def list_links(
    session: AsyncSession,
    settings: Settings,
    tenant_id: UUID,
    params: PageParams,
    *,
    campaign_id: UUID | None = None,
    contact_id: UUID | None = None,
) -> Slice[LinkRead]:
    page = await LinkRepository(session).list(
        tenant_id, params, campaign_id=campaign_id, contact_id=contact_id
    )
    tenant_settings = settings_of(await get_tenant(session, tenant_id))
    items = [to_read(link, settings, tenant_settings) for link in page.items]
    return Slice(items, page.next_cursor)


async def follow(db: Database, key: bytes, token: str, visitor: Visitor) -> Click:
    """Count a click on ``token`` and say where it goes. A token whose MAC does not verify is
    unknown without asking the database. The lookup runs as the owner (no tenant is known
    yet): the token itself is the capability, and only the redirect URL comes back. A
    person's click on a campaign's link is also the campaign's ``clicked`` event (for its
    contact and message), in the same statement."""
    if not is_genuine(key, token):
        return Click(redirect_url=None, known=False)
    async with db.engine.connect() as conn:
        return await record_click(conn, token, human=visitor is Visitor.human, event_id=new_id())
