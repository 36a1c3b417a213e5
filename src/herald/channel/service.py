"""The rules of channels: provider configs validated and kept secret, caps and warm-up, the
circuit breaker the dispatch consults, and sender pools with sticky senders."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel.models import Channel, ChannelStatus, SenderPool
from herald.channel.repository import Breaker, ChannelInUse, ChannelRepository, PoolRepository
from herald.channel.schemas import (
    ChannelCreate,
    ChannelFilters,
    ChannelRead,
    ChannelUpdate,
    PoolCreate,
    PoolRead,
    PoolUpdate,
)
from herald.contact.models import ChannelKind
from herald.kit.errors import Conflict, NotFound, Unprocessable
from herald.kit.models import utcnow
from herald.kit.pagination import Page, PageParams
from herald.kit.wording import with_article
from herald.providers.base import Provider, ProviderConfig
from herald.providers.registry import PROVIDERS

SIM_PATH = "/sim"
GENERATED_SECRETS: dict[str, tuple[str, ...]] = {
    "simulator": ("api_key", "signing_secret"),
    "whatsapp_cloud": ("app_secret",),
}
"""Secrets Herald makes up when a config leaves them out: the simulator accepts any key, and
Meta's app secret only signs webhooks (they fail verification until the real one is set)."""

SMS_SENDER = re.compile(r"^\+[1-9]\d{6,14}$|^\d{3,8}$|^(?=.*[A-Za-z])[A-Za-z0-9 .&\-]{1,11}$")
WHATSAPP_SENDER = re.compile(r"^\+?\d{6,30}$")
WARMUP_MAX_DOUBLINGS = 40


# --- providers and configs ---------------------------------------------------------------


def provider_of(code: str, kind: ChannelKind) -> Provider[Any]:
    """The adapter for ``code``; 422 naming the choices when unknown or not for ``kind``."""
    provider = PROVIDERS.get(code)
    fitting = sorted(p.code for p in PROVIDERS.values() if kind in p.kinds)
    if provider is None:
        raise Unprocessable(
            f"Provider {code[:40]!r} is not known; for {kind} use one of: {', '.join(fitting)}.",
            errors=[{"field": "provider", "message": "unknown provider"}],
        )
    if kind not in provider.kinds:
        raise Unprocessable(
            f"Provider {code} does not carry {kind}; for {kind} use one of: {', '.join(fitting)}.",
            errors=[{"field": "provider", "message": f"not {with_article(kind)} provider"}],
        )
    return provider


def _validate(provider: Provider[Any], config: dict[str, Any]) -> ProviderConfig:
    try:
        return provider.config_schema.model_validate(config)
    except ValidationError as exc:
        problems = [
            {
                "field": ".".join(["config", *(str(part) for part in error["loc"])]),
                "message": error["msg"],
            }
            for error in exc.errors(include_url=False, include_input=False)
        ]
        listed = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise Unprocessable(
            f"The config does not fit provider {provider.code}: {listed}.", errors=problems
        ) from exc


def _stored(model: ProviderConfig) -> dict[str, Any]:
    """The keys the tenant set (not the defaults, which may improve later), secrets revealed:
    the whole dict is encrypted at rest."""
    return {
        key: value.get_secret_value() if isinstance(value, SecretStr) else value
        for key, value in model.model_dump(exclude_unset=True).items()
    }


def provider_config(channel: Channel) -> ProviderConfig:
    """The channel's config as its adapter takes it (what the dispatch passes to ``send``)."""
    return _validate(PROVIDERS[channel.provider], channel.config)


def redacted_config(channel: Channel) -> dict[str, Any]:
    """The effective config with each secret replaced by ``{"set": bool}``."""
    provider = PROVIDERS.get(channel.provider)
    secret = provider.secret_fields if provider else frozenset(channel.config)
    try:
        shown = provider_config(channel).model_dump(mode="json") if provider else {}
    except Unprocessable:
        shown = dict(channel.config)
    return {
        key: {"set": channel.config.get(key) is not None} if key in secret else value
        for key, value in shown.items()
    }


def _with_defaults(provider_code: str, config: dict[str, Any], base_url: str) -> dict[str, Any]:
    filled = dict(config)
    if provider_code == "simulator":
        filled.setdefault("api_base_url", base_url.rstrip("/") + SIM_PATH)
    for key in GENERATED_SECRETS.get(provider_code, ()):
        if filled.get(key) is None:
            filled[key] = secrets.token_urlsafe(24)
    return filled


def _apply_identity(channel: Channel, config: ProviderConfig) -> None:
    """WhatsApp ids are kept in columns too: webhooks find the channel by phone number id."""
    channel.waba_id = getattr(config, "waba_id", None)
    channel.phone_number_id = getattr(config, "phone_number_id", None)


def _check_sender(kind: ChannelKind, sender: str | None) -> None:
    if kind is ChannelKind.whatsapp and (sender is None or not WHATSAPP_SENDER.match(sender)):
        raise Unprocessable(
            "A WhatsApp channel needs a sender: its number in E.164 (+15550100), or a config "
            "with a phone_number_id to stand for it.",
            errors=[{"field": "sender", "message": "missing or not a valid WhatsApp sender"}],
        )
    if kind is ChannelKind.sms and (sender is None or not SMS_SENDER.match(sender)):
        raise Unprocessable(
            "An SMS channel needs a sender: an E.164 number (+15550100), a short code (3-8 "
            "digits) or an alphanumeric sender ID (up to 11 letters, digits or spaces).",
            errors=[{"field": "sender", "message": "missing or not a valid SMS sender"}],
        )


# --- caps and warm-up ----------------------------------------------------------------------


def daily_cap(channel: Channel, today: date) -> int | None:
    """Today's cap on messages: ``warmup_initial`` on the warm-up's first day (and before it),
    doubling each day, never above ``rate_per_day``. ``None``: unlimited."""
    ceiling = channel.rate_per_day
    if channel.warmup_started_on is None:
        return ceiling
    days = max(0, (today - channel.warmup_started_on).days)
    if days > WARMUP_MAX_DOUBLINGS:
        return ceiling
    grown: int = channel.warmup_initial * 2**days
    return grown if ceiling is None else min(grown, ceiling)


def present(channel: Channel, today: date | None = None) -> ChannelRead:
    fields = {
        name: getattr(channel, name)
        for name in ChannelRead.model_fields
        if name not in ("config", "daily_cap")
    }
    day = today or utcnow().date()
    return ChannelRead(**fields, config=redacted_config(channel), daily_cap=daily_cap(channel, day))


# --- CRUD ----------------------------------------------------------------------------------


async def get_channel(
    session: AsyncSession, tenant_id: UUID, channel_id: UUID, *, for_update: bool = False
) -> Channel:
    channel = await ChannelRepository(session).get(tenant_id, channel_id, for_update=for_update)
    if channel is None:
        raise NotFound(f"No channel {channel_id} in this account.")
    return channel


async def _check_name_free(
    session: AsyncSession, tenant_id: UUID, name: str, channel_id: UUID | None = None
) -> None:
    existing = await ChannelRepository(session).get_by_name(tenant_id, name)
    if existing is not None and existing.id != channel_id:
        raise Conflict(f"A channel named {name!r} exists already; choose another name.")


async def create_channel(
    session: AsyncSession, tenant_id: UUID, data: ChannelCreate, base_url: str
) -> Channel:
    """``base_url`` is this Herald's public URL: a simulator channel defaults to its ``/sim``."""
    provider = provider_of(data.provider, data.kind)
    config = _validate(provider, _with_defaults(data.provider, data.config, base_url))
    sender = data.sender or getattr(config, "phone_number_id", None)
    _check_sender(data.kind, sender)
    await _check_name_free(session, tenant_id, data.name)
    channel = Channel(
        tenant_id=tenant_id,
        kind=data.kind,
        provider=data.provider,
        name=data.name,
        sender=sender,
        config=_stored(config),
        display_name=data.display_name,
        rate_per_second=data.rate_per_second,
        rate_per_minute=data.rate_per_minute,
        rate_per_day=data.rate_per_day,
        warmup_started_on=data.warmup_started_on,
        warmup_initial=data.warmup_initial,
        status=ChannelStatus.active,
        consecutive_failures=0,
    )
    _apply_identity(channel, config)
    ChannelRepository(session).add(channel)
    await session.flush()
    return channel


async def list_channels(
    session: AsyncSession, tenant_id: UUID, filters: ChannelFilters, params: PageParams
) -> Page[ChannelRead]:
    found = await ChannelRepository(session).list(tenant_id, filters, params)
    today = utcnow().date()
    return Page(items=[present(c, today) for c in found.items], next_cursor=found.next_cursor)


async def update_channel(
    session: AsyncSession, tenant_id: UUID, channel_id: UUID, data: ChannelUpdate, base_url: str
) -> Channel:
    channel = await get_channel(session, tenant_id, channel_id, for_update=True)
    changes = data.model_dump(exclude_unset=True, exclude={"config"})
    if data.config is not None:
        merged = {**channel.config, **data.config}
        kept = {key: value for key, value in merged.items() if value is not None}
        provider = PROVIDERS[channel.provider]
        config = _validate(provider, _with_defaults(channel.provider, kept, base_url))
        channel.config = _stored(config)
        _apply_identity(channel, config)
    if "name" in changes and changes["name"] != channel.name:
        await _check_name_free(session, tenant_id, changes["name"], channel.id)
    if "sender" in changes:
        _check_sender(channel.kind, changes["sender"])
    for key, value in changes.items():
        if key in ("name", "sender", "rate_per_second", "warmup_initial") and value is None:
            raise Unprocessable(f"{key} cannot be null; leave it out to keep it.")
        setattr(channel, key, value)
    await session.flush()
    return channel


async def delete_channel(session: AsyncSession, tenant_id: UUID, channel_id: UUID) -> None:
    channel = await get_channel(session, tenant_id, channel_id, for_update=True)
    try:
        await ChannelRepository(session).delete(channel)
    except ChannelInUse as exc:
        raise Conflict(
            f"Channel {channel_id} has sent or queued messages, which keep their channel for "
            "the record; pause it instead (POST /v1/channels/{id}/pause)."
        ) from exc


async def pause_channel(
    session: AsyncSession, tenant_id: UUID, channel_id: UUID, reason: str | None
) -> Channel:
    channel = await get_channel(session, tenant_id, channel_id, for_update=True)
    channel.status = ChannelStatus.paused
    channel.status_reason = reason or "paused by a person"
    await session.flush()
    return channel


async def resume_channel(session: AsyncSession, tenant_id: UUID, channel_id: UUID) -> Channel:
    """Back to active, the breaker closed and its count reset (a person vouches for it)."""
    channel = await get_channel(session, tenant_id, channel_id, for_update=True)
    channel.status = ChannelStatus.active
    channel.status_reason = None
    channel.consecutive_failures = 0
    channel.probe_after = None
    await session.flush()
    return channel


# --- circuit breaker (called by the dispatch) ---------------------------------------------


async def record_success(session: AsyncSession, channel_id: UUID, now: datetime) -> None:
    """A send went through: reset the failure count; a failing channel (this was its probe)
    becomes active again. Written at most once a second while nothing changes."""
    await ChannelRepository(session).record_success(channel_id, now)


async def record_failure(
    session: AsyncSession,
    channel_id: UUID,
    now: datetime,
    reason: str,
    *,
    count: int = 1,
    breaker: Breaker = Breaker(),
) -> bool:
    """``count`` provider failures (transport or 5xx, not a refused message). ``True`` when
    they just opened the breaker: the channel is now ``failing`` with ``reason`` and is probed
    after a back-off that doubles with every further failure (30 s up to 15 min)."""
    return await ChannelRepository(session).record_failure(channel_id, now, reason, breaker, count)


def may_probe(channel: Channel, now: datetime) -> bool:
    """Whether a failing channel's back-off is over, so one message may try it."""
    return (
        channel.status is ChannelStatus.failing
        and channel.probe_after is not None
        and channel.probe_after <= now
    )


async def claim_probe(
    session: AsyncSession, channel_id: UUID, now: datetime, hold_seconds: int = 60
) -> bool:
    """Take the one probe of a failing channel atomically: ``True`` for exactly one caller,
    and the next probe waits ``hold_seconds`` unless the probe's outcome is recorded first."""
    return await ChannelRepository(session).claim_probe(channel_id, now, hold_seconds)


# --- sender pools --------------------------------------------------------------------------


async def _pool(session: AsyncSession, tenant_id: UUID, pool_id: UUID) -> SenderPool:
    pool = await PoolRepository(session).get(tenant_id, pool_id)
    if pool is None:
        raise NotFound(f"No sender pool {pool_id} in this account.")
    return pool


async def _check_members(
    session: AsyncSession, tenant_id: UUID, kind: ChannelKind, channel_ids: Sequence[UUID]
) -> list[UUID]:
    unique = list(dict.fromkeys(channel_ids))
    found = {c.id: c for c in await ChannelRepository(session).get_many(tenant_id, unique)}
    missing = [str(i) for i in unique if i not in found]
    if missing:
        raise Unprocessable(f"No such channels in this account: {', '.join(missing)}.")
    wrong = [str(i) for i in unique if found[i].kind is not kind]
    if wrong:
        raise Unprocessable(f"A {kind} pool takes {kind} channels only; not: {', '.join(wrong)}.")
    return unique


async def _read_pools(session: AsyncSession, pools: Sequence[SenderPool]) -> list[PoolRead]:
    members = await PoolRepository(session).members([p.id for p in pools])
    return [
        PoolRead(
            id=p.id,
            name=p.name,
            kind=p.kind,
            channel_ids=members[p.id],
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p in pools
    ]


async def create_pool(session: AsyncSession, tenant_id: UUID, data: PoolCreate) -> PoolRead:
    repo = PoolRepository(session)
    if await repo.get_by_name(tenant_id, data.name) is not None:
        raise Conflict(f"A sender pool named {data.name!r} exists already; choose another name.")
    members = await _check_members(session, tenant_id, data.kind, data.channel_ids)
    pool = SenderPool(tenant_id=tenant_id, name=data.name, kind=data.kind)
    repo.add(pool)
    await session.flush()
    await repo.set_members(pool, members)
    return (await _read_pools(session, [pool]))[0]


async def get_pool(session: AsyncSession, tenant_id: UUID, pool_id: UUID) -> PoolRead:
    return (await _read_pools(session, [await _pool(session, tenant_id, pool_id)]))[0]


async def list_pools(session: AsyncSession, tenant_id: UUID, params: PageParams) -> Page[PoolRead]:
    found = await PoolRepository(session).list(tenant_id, params)
    return Page(items=await _read_pools(session, found.items), next_cursor=found.next_cursor)


async def update_pool(
    session: AsyncSession, tenant_id: UUID, pool_id: UUID, data: PoolUpdate
) -> PoolRead:
    pool = await _pool(session, tenant_id, pool_id)
    repo = PoolRepository(session)
    if data.name is not None and data.name != pool.name:
        if await repo.get_by_name(tenant_id, data.name) is not None:
            raise Conflict(f"A sender pool named {data.name!r} exists already.")
        pool.name = data.name
    if data.channel_ids is not None:
        members = await _check_members(session, tenant_id, pool.kind, data.channel_ids)
        await repo.set_members(pool, members)
    pool.updated_at = utcnow()
    await session.flush()
    return (await _read_pools(session, [pool]))[0]


async def delete_pool(session: AsyncSession, tenant_id: UUID, pool_id: UUID) -> None:
    await PoolRepository(session).delete(await _pool(session, tenant_id, pool_id))
    await session.flush()


async def assign_senders(
    session: AsyncSession, tenant_id: UUID, pool_id: UUID, contact_ids: Sequence[UUID]
) -> dict[UUID, UUID]:
    """Contact → channel for ``contact_ids`` through the pool, in two statements: contacts
    already assigned keep their sender (while it stays in the pool); new ones are spread over
    the pool's active channels and remembered. Contacts absent from the answer could not be
    assigned (no active channel in the pool, or not a contact of this tenant)."""
    await _pool(session, tenant_id, pool_id)
    if not contact_ids:
        return {}
    return await PoolRepository(session).assign(tenant_id, pool_id, contact_ids)
