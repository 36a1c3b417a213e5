"""Provider callbacks: verified with the provider's own scheme, stored raw, answered at once.

The accept path does as little as it can — the channel (cached a few seconds), the signature,
a parse for the event ids, a row in the next group commit (``intake``) — so a provider is
answered in milliseconds; applying the events is the processor's (``flows``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.hook.intake import intake_of
from herald.hook.repository import HookChannel, HookRepository, Incoming
from herald.hook.schemas import HookStats
from herald.kit.database import Database
from herald.kit.errors import Forbidden, HeraldError, NotFound
from herald.kit.models import utcnow
from herald.message.receipts import HOOK_PATHS
from herald.providers.base import Provider, ProviderConfig
from herald.providers.registry import PROVIDERS
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig
from herald.providers.whatsapp_cloud.webhooks import subscription_challenge

log = structlog.get_logger(__name__)

MAX_BODY = 256 * 1024
"""Larger callbacks are refused (413) before they are read whole; Meta's batches stay far
below."""
PROVIDER_OF_SLUG: dict[str, str] = {slug: code for code, (slug, _) in HOOK_PATHS.items()}


class PayloadTooLarge(HeraldError):
    status, title = 413, "Content too large"


class NotStored(HeraldError):
    status, title = 503, "Service unavailable"


class Outcome(StrEnum):
    stored = "stored"
    duplicate = "duplicate"
    rejected = "rejected"


def too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The callback body exceeds {MAX_BODY // 1024} KiB; webhooks carry small JSON or form "
        "bodies, so this is not a provider's callback."
    )


@dataclass(frozen=True, slots=True)
class Known:
    """A channel as the accept path needs it, with its validated config."""

    channel: HookChannel
    provider: Provider[Any]
    config: ProviderConfig


class ChannelCache:
    """Channels by id for ``ttl`` seconds, in this process: callbacks come in bursts for the
    same few channels, and reading one (and decrypting its config) per callback would cost
    more than storing the callback. A changed secret applies within ``ttl`` (a provider
    retries a callback refused meanwhile); unknown ids are never cached. A channel missing
    from the cache is read once however many requests miss it at the same moment (a burst
    after an entry expired would otherwise read it once per request in flight)."""

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._known: dict[UUID, tuple[float, Known]] = {}
        self._reading: dict[UUID, asyncio.Future[Known | None]] = {}

    def get(self, channel_id: UUID) -> Known | None:
        hit = self._known.get(channel_id)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, known: Known) -> None:
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[known.channel.id] = (time.monotonic() + self.ttl, known)

    async def read_once(
        self, channel_id: UUID, read: Callable[[], Awaitable[Known | None]]
    ) -> Known | None:
        """``read()`` the channel and cache it, joining a read already under way."""
        reading = self._reading.get(channel_id)
        if reading is None:
            reading = self._reading[channel_id] = asyncio.ensure_future(
                self._read_and_put(channel_id, read)
            )
        return await asyncio.shield(reading)  # one request going away cancels no one's read

    async def _read_and_put(
        self, channel_id: UUID, read: Callable[[], Awaitable[Known | None]]
    ) -> Known | None:
        try:
            known = await read()
            if known is not None:
                self.put(known)
            return known
        finally:
            del self._reading[channel_id]


CHANNELS = ChannelCache()


async def _known(db: Database, slug: str, channel_id: UUID) -> Known:
    """The channel the URL names, if it is a channel of the provider the URL names."""
    known = CHANNELS.get(channel_id) or await CHANNELS.read_once(
        channel_id, lambda: _read_channel(db, channel_id)
    )
    if known is None or known.channel.provider != PROVIDER_OF_SLUG.get(slug):
        raise _no_channel(slug, channel_id)
    return known


async def _read_channel(db: Database, channel_id: UUID) -> Known | None:
    async with db.system_session() as session:
        channel = await HookRepository(session).channel(channel_id)
    if channel is None:
        return None
    provider = PROVIDERS[channel.provider]
    return Known(channel, provider, _config(provider, channel))


def _no_channel(slug: str, channel_id: UUID) -> NotFound:
    return NotFound(
        f"There is no {slug} channel {channel_id}; check the webhook URL configured at the "
        "provider (GET /v1/channels lists channels and their providers)."
    )


def _config(provider: Provider[Any], channel: HookChannel) -> ProviderConfig:
    try:
        return provider.config_schema.model_validate(channel.config)
    except ValidationError as exc:
        raise NotFound(
            f"Channel {channel.id} cannot check callbacks: its {channel.provider} configuration "
            "is incomplete; fix it with PATCH /v1/channels/{id}."
        ) from exc


def dedupe_key(event_ids: Sequence[str], payload: bytes) -> str:
    """The single event's id; else a hash of the sorted ids (the same batch retried gives the
    same key); a body with no event is keyed by its own hash."""
    if len(event_ids) == 1 and len(event_ids[0]) <= 200:
        return event_ids[0]
    material = "\n".join(sorted(event_ids)).encode() if event_ids else payload
    return "sha256:" + hashlib.sha256(material).hexdigest()


async def accept(
    db: Database,
    slug: str,
    channel_id: UUID,
    url: str,
    headers: Mapping[str, str],
    payload: bytes,
    content_type: str,
    now: datetime,
) -> Outcome:
    """Verify and store one callback. ``url`` is the public URL it was posted to (what the
    provider signed). A refused signature is counted and logged (never the payload) and
    stores nothing. A callback is answered once its row is committed; a failed write answers
    503 (the provider retries)."""
    known = await _known(db, slug, channel_id)
    channel = known.channel
    if not known.provider.verify(known.config, url, headers, payload):
        async with db.tenant_session(channel.tenant_id) as session:
            await HookRepository(session).count_rejection(channel, now)
        log.warning(
            "hooks.signature_rejected",
            channel_id=str(channel.id),
            tenant_id=str(channel.tenant_id),
            provider=channel.provider,
            path=url.split("?", 1)[0],
            length=len(payload),
        )
        return Outcome.rejected
    events = known.provider.parse(known.config, payload, content_type)
    event_ids = [event.event_id for event in events]
    incoming = Incoming(
        tenant_id=channel.tenant_id,
        channel_id=channel.id,
        provider=channel.provider,
        dedupe_key=dedupe_key(event_ids, payload),
        event_ids=event_ids[:1000],
        content_type=content_type[:200],
        payload=payload,
        received_at=now,
    )
    written = await intake_of(db).store(incoming)
    if isinstance(written, IntegrityError):  # the channel was deleted as the row was written
        raise _no_channel(slug, channel_id) from written
    if isinstance(written, Exception):
        raise NotStored(
            "The callback could not be stored and is not acknowledged; the provider will "
            "send it again."
        ) from written
    if not written.channel_live:  # the channel was deleted since it was cached
        raise _no_channel(slug, channel_id)
    return Outcome.stored if written.stored else Outcome.duplicate


def rejected(slug: str) -> Forbidden:
    return Forbidden(
        f"The {slug} signature of this callback is missing or does not match; check the "
        "channel's signing secret and that the provider posts to Herald's public URL "
        "(HERALD_PUBLIC_URL)."
    )


async def handshake(db: Database, channel_id: UUID, params: Mapping[str, str]) -> str:
    """Meta's subscription check: echo ``hub.challenge`` when the verify token matches."""
    config = (await _known(db, "whatsapp", channel_id)).config
    if not isinstance(config, WhatsAppCloudConfig) or config.verify_token is None:
        raise Forbidden(
            f"Channel {channel_id} has no verify_token; set one with PATCH /v1/channels/{{id}} "
            "and enter the same value in Meta's webhook settings."
        )
    challenge = subscription_challenge(config.verify_token.get_secret_value(), params)
    if challenge is None:
        raise Forbidden(
            "hub.mode must be 'subscribe' and hub.verify_token must equal the channel's "
            "verify_token."
        )
    return challenge


async def stats(session: AsyncSession, tenant_id: UUID) -> list[HookStats]:
    rows = await HookRepository(session).stats(tenant_id)
    return [HookStats.model_validate(row) for row in rows]


async def reprocess(
    session: AsyncSession, *, failed_only: bool, since: datetime | None, now: datetime
) -> int:
    """Make processed events due again; the processor applies them anew (receipts only move
    messages forward and template moves are idempotent, so applying twice is harmless)."""
    return await HookRepository(session).requeue(failed_only=failed_only, since=since, now=now)


async def purge(session: AsyncSession, days: int, now: datetime) -> int:
    """Delete raw events received more than ``days`` ago."""
    return await HookRepository(session).purge(now - timedelta(days=days))


async def forget_number(session: AsyncSession, tenant_id: UUID, phone_e164: str | None) -> int:
    """Blank the raw callbacks that carry an erased person's number (their inbound texts,
    receipts naming them), in the erasure's transaction; returns how many."""
    if not phone_e164:
        return 0
    return await HookRepository(session).blank_mentioning(
        tenant_id, phone_e164.lstrip("+"), utcnow()
    )
