"""Channel work that calls a provider: the credential test, and WhatsApp templates submitted
to and synced from Meta. Not the hot path, so each call opens its own HTTP session."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel import service
from herald.channel.models import Channel
from herald.channel.repository import ChannelRepository, TemplateCacheRepository
from herald.channel.schemas import CredentialResult, SyncResult
from herald.kit.database import Database
from herald.kit.errors import Conflict, HeraldError, Unprocessable
from herald.kit.ids import new_id
from herald.kit.models import utcnow
from herald.kit.wording import with_article
from herald.providers.base import CredentialCheck
from herald.providers.registry import PROVIDERS
from herald.providers.whatsapp_cloud import templates as meta
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig
from herald.whatsapp.lifecycle import (
    HISTORY_KEPT,
    TRANSITIONS,
    from_meta_status,
    quality_from_meta,
    transition,
)
from herald.whatsapp.models import (
    ParameterFormat,
    TemplateCategory,
    TemplateStatus,
    WhatsAppTemplate,
)
from herald.whatsapp.repository import TemplateRepository
from herald.whatsapp.service import get_template
from herald.whatsapp.templates import submission_payload

log = logging.getLogger(__name__)

TEST_TIMEOUT_SECONDS = 10.0
"""The credential test answers a person waiting on a page."""
WHATSAPP_PROVIDER = "whatsapp_cloud"


class BadGateway(HeraldError):
    status, title = 502, "Bad gateway"


@asynccontextmanager
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(raise_for_status=False) as http:
        yield http


async def check_credentials(
    session: AsyncSession, tenant_id: UUID, channel_id: UUID
) -> CredentialResult:
    """Ask the provider whether the channel's credentials work; never raises on its answer."""
    channel = await service.get_channel(session, tenant_id, channel_id)
    config = service.provider_config(channel)
    limited = config.model_copy(
        update={"timeout_seconds": min(config.timeout_seconds, TEST_TIMEOUT_SECONDS)}
    )
    async with http_session() as http:
        check: CredentialCheck = await PROVIDERS[channel.provider].check_credentials(http, limited)
    return CredentialResult(ok=check.ok, detail=check.detail)


def _meta_config(channel: Channel) -> WhatsAppCloudConfig:
    config = service.provider_config(channel)
    if channel.provider != WHATSAPP_PROVIDER or not isinstance(config, WhatsAppCloudConfig):
        raise Unprocessable(
            f"Channel {channel.id} is on {channel.provider}; templates are submitted and synced "
            f"through a {WHATSAPP_PROVIDER} channel."
        )
    if not config.waba_id:
        raise Unprocessable(
            f"Channel {channel.id} has no waba_id; set it with PATCH /v1/channels/{channel.id} "
            '{"config": {"waba_id": "..."}}.'
        )
    return config


async def submit_template(
    session: AsyncSession, tenant_id: UUID, channel_id: UUID, template_id: UUID
) -> WhatsAppTemplate:
    """Create the template at Meta through the channel's account, keep Meta's id and move it
    to PENDING. Checked before the call, so Meta never gets a template Herald would refuse."""
    channel = await service.get_channel(session, tenant_id, channel_id)
    config = _meta_config(channel)
    template = await get_template(session, tenant_id, template_id, for_update=True)
    if template.channel_id not in (None, channel.id):
        raise Unprocessable(
            f"Template {template_id} belongs to channel {template.channel_id}; submit it there."
        )
    twin = await TemplateRepository(session).find(
        tenant_id, channel.id, template.name, template.language
    )
    if twin is not None and twin.id != template.id:
        raise Conflict(
            f"Channel {channel.id} already has a template {template.name!r} in "
            f"{template.language} ({twin.id}); edit that one, or rename this one."
        )
    if TemplateStatus.PENDING not in TRANSITIONS[template.status]:
        raise Conflict(
            f"{with_article(template.status, capital=True)} template cannot be submitted to Meta; "
            "only draft, rejected, "
            "approved or paused ones can (sync the channel to see Meta's current status)."
        )
    payload = submission_payload(template)
    async with http_session() as http:
        try:
            submitted = await meta.submit(http, config, payload)
        except meta.MetaTemplateError as exc:
            raise BadGateway(f"The template was not submitted: {exc}.") from exc
    template.channel_id = channel.id
    template.meta_template_id = submitted.meta_template_id
    transition(template, TemplateStatus.PENDING, source="api")
    await session.flush()
    return template


async def sync_templates(
    session: AsyncSession,
    tenant_id: UUID,
    channel_id: UUID,
    http: aiohttp.ClientSession | None = None,
) -> SyncResult:
    """Pull every template of the channel's account from Meta and upsert the channel's copy
    in one statement (status, quality, rejection reason, components)."""
    channel = await service.get_channel(session, tenant_id, channel_id)
    config = _meta_config(channel)
    try:
        if http is None:
            async with http_session() as own:
                listed = await meta.list_all(own, config)
        else:
            listed = await meta.list_all(http, config)
    except meta.MetaTemplateError as exc:
        raise BadGateway(f"The templates were not synced: {exc}.") from exc
    cache = TemplateCacheRepository(session)
    known = {(t.name, t.language): t for t in await cache.of_channel(tenant_id, channel.id)}
    now = utcnow()
    rows = [row for item in listed if (row := _cached_row(item, channel, known, now)) is not None]
    await cache.upsert(rows)
    created = sum(1 for row in rows if (row["name"], row["language"]) not in known)
    return SyncResult(fetched=len(listed), created=created, updated=len(rows) - created)


def _cached_row(
    item: dict[str, Any],
    channel: Channel,
    known: dict[tuple[str, str], WhatsAppTemplate],
    now: datetime,
) -> dict[str, Any] | None:
    """The cache row for one template Meta listed; ``None`` for one Herald cannot hold."""
    name, language = str(item.get("name") or ""), str(item.get("language") or "")
    try:
        category = TemplateCategory(str(item.get("category", "")).upper())
        listed_status = from_meta_status(str(item.get("status", "")))
    except (ValueError, HeraldError):
        log.warning("skipped a template Meta listed", extra={"template": item.get("id")})
        return None
    if not name or not language or len(name) > 512 or len(language) > 15:
        return None
    before = known.get((name, language))
    old = before.status if before else None
    status = listed_status or old or TemplateStatus.PENDING
    history = list(before.status_history) if before else []
    changed = status is not old
    reason = item.get("rejected_reason")
    reason = None if reason in (None, "NONE") else str(reason)[:1000]
    if changed:
        entry = {"from": old, "to": status, "at": now.isoformat(), "source": "sync"}
        history = [*history, {**entry, "reason": reason}][-HISTORY_KEPT:]
    quality = (item.get("quality_score") or {}).get("score")
    return {
        "id": before.id if before else new_id(),
        "tenant_id": channel.tenant_id,
        "channel_id": channel.id,
        "name": name,
        "language": language,
        "category": category,
        "parameter_format": ParameterFormat(
            str(item.get("parameter_format") or "POSITIONAL").upper()
        ),
        "components": item.get("components") or [],
        "status": status,
        "rejection_reason": reason,
        "quality_rating": quality_from_meta(quality),
        "meta_template_id": str(item.get("id") or "") or None,
        "submitted_at": before.submitted_at if before else None,
        "status_changed_at": now if changed else before.status_changed_at if before else now,
        "status_history": history,
        "created_at": before.created_at if before else now,
        "updated_at": now,
    }


async def sync_all(db: Database) -> dict[str, int]:
    """Sync every active WhatsApp Cloud channel, each in its tenant's own transaction; one
    account's failure is logged and does not stop the others."""
    async with db.system_session() as session:
        targets = await ChannelRepository(session).active_whatsapp(WHATSAPP_PROVIDER)
    counts = {"channels": len(targets), "failed": 0, "templates": 0}
    async with http_session() as http:
        for tenant_id, channel_id in targets:
            try:
                async with db.tenant_session(tenant_id) as session:
                    result = await sync_templates(session, tenant_id, channel_id, http)
                counts["templates"] += result.fetched
            except HeraldError as exc:
                counts["failed"] += 1
                log.warning(
                    "template sync failed", extra={"channel_id": str(channel_id), "why": exc.detail}
                )
    return counts
