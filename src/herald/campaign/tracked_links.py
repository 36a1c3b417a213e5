"""Tracked short links at launch: when ``{{ link }}`` of an SMS campaign was composed with
the placeholder (the tenant has a short-link domain), each message of the round gets a short
link of its own (its contact, message and campaign), so a click is attributed to them: the A/B
winner, drip stops and the stats read those clicks.

Set-based whatever the audience: one read of the round's messages awaiting a link, one
``INSERT … SELECT FROM unnest`` of the links (``herald.link.service.create_links``), one
``UPDATE … FROM unnest`` writing each URL into its message. The tokens are minted in Python:
their MAC needs the instance's key, which never goes to the database.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from herald.campaign.content import Composer
from herald.campaign.models import Campaign
from herald.campaign.tracked_links_repository import TrackedLinkRepository
from herald.link.service import create_links
from herald.settings import get_settings
from herald.tenant.models import Tenant


async def link_round(session: AsyncSession, tenant: Tenant, campaign: Campaign, round_: int) -> int:
    """Give each message of the round still holding the placeholder its own short link;
    returns how many were made (0 when the campaign sends its target URL as it is)."""
    placeholder = Composer(tenant, campaign).tracked_link
    if placeholder is None or campaign.target_url is None:
        return 0
    repo = TrackedLinkRepository(session)
    waiting = await repo.awaiting_links(tenant.id, campaign.id, round_, placeholder)
    if not waiting:
        return 0
    urls = await create_links(
        session,
        get_settings(),
        tenant.id,
        campaign.target_url,
        waiting,
        campaign_id=campaign.id,
        discount_code=campaign.discount_code,
    )
    await repo.set_links(
        tenant.id, placeholder, [(message_id, urls[contact]) for contact, message_id in waiting]
    )
    return len(waiting)
