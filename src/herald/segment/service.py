"""Segment rules: writes validate them, previews and refreshes compile them in the tenant's
time zone, and campaigns re-evaluate them at launch through ``resolve_audience``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_
from sqlalchemy.ext.asyncio import AsyncSession

from herald.contact.eligibility import Purpose, eligible
from herald.contact.models import ChannelKind, Contact
from herald.kit.errors import Conflict, NotFound, Unprocessable
from herald.kit.pagination import PageParams, Slice
from herald.segment.compiler import CompileContext, compile_node, parse_rules
from herald.segment.models import Segment
from herald.segment.repository import SegmentRepository, matching
from herald.segment.schemas import Preview, SegmentContact, SegmentCreate, SegmentUpdate
from herald.tenant.repository import TenantRepository

TAG_PRESET = "tag:"
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "all": ("All contacts", {"all": []}),
    "male": ("Men", {"all": [{"field": "gender", "op": "eq", "value": "male"}]}),
    "female": ("Women", {"all": [{"field": "gender", "op": "eq", "value": "female"}]}),
}


def expand_preset(preset: str) -> tuple[str, dict[str, Any]]:
    """The default name and the rules of a shortcut: ``all``, ``male``, ``female``, ``tag:X``."""
    if preset.startswith(TAG_PRESET) and preset[len(TAG_PRESET) :].strip():
        tag = preset[len(TAG_PRESET) :].strip()
        return f"Tag: {tag}", {"all": [{"field": "tags", "op": "any", "value": [tag]}]}
    if preset in PRESETS:
        return PRESETS[preset]
    raise Unprocessable(
        f"Unknown preset {preset[:60]!r}; use one of {', '.join(PRESETS)} or tag:<name>.",
        errors=[{"field": "preset", "message": "unknown preset"}],
    )


async def compile_context(session: AsyncSession, tenant_id: UUID) -> CompileContext:
    tenant = await TenantRepository(session).get(tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant {tenant_id}.")
    return CompileContext.for_timezone(tenant.timezone)


async def compile_for_tenant(
    session: AsyncSession, tenant_id: UUID, rules: Any
) -> ColumnElement[bool]:
    """Validate (422 on any problem) and compile ``rules`` relative to the tenant's today."""
    node = parse_rules(rules)
    return compile_node(node, await compile_context(session, tenant_id))


async def get_segment(
    session: AsyncSession, tenant_id: UUID, segment_id: UUID, *, for_update: bool = False
) -> Segment:
    segment = await SegmentRepository(session).get(tenant_id, segment_id, for_update=for_update)
    if segment is None:
        raise NotFound(f"No segment {segment_id} in this account.")
    return segment


async def _check_name_free(
    repo: SegmentRepository, tenant_id: UUID, name: str, segment_id: UUID | None = None
) -> None:
    existing = await repo.get_by_name(tenant_id, name)
    if existing is not None and existing.id != segment_id:
        raise Conflict(
            f"A segment named {name!r} already exists ({existing.id}); pick another name.",
            existing_id=str(existing.id),
        )


async def create_segment(session: AsyncSession, tenant_id: UUID, data: SegmentCreate) -> Segment:
    if data.preset is not None:
        default_name, rules = expand_preset(data.preset)
        name = data.name or default_name
    else:
        assert data.rules is not None and data.name is not None  # checked by SegmentCreate
        name, rules = data.name, data.rules
    parse_rules(rules)
    repo = SegmentRepository(session)
    await _check_name_free(repo, tenant_id, name)
    segment = Segment(
        tenant_id=tenant_id,
        name=name,
        description=data.description,
        rules=rules,
        preset=data.preset,
    )
    repo.add(segment)
    await session.flush()
    return segment


async def update_segment(
    session: AsyncSession, tenant_id: UUID, segment_id: UUID, data: SegmentUpdate
) -> Segment:
    """Changed rules drop the preset label (the rules no longer are the shortcut's) and the
    memberships, which belonged to the old rules, until the next refresh."""
    segment = await get_segment(session, tenant_id, segment_id)
    if data.rules is not None and data.rules != segment.rules:
        parse_rules(data.rules)
        segment.rules, segment.preset = data.rules, None
        await SegmentRepository(session).clear(segment)
    if data.name is not None and data.name != segment.name:
        await _check_name_free(SegmentRepository(session), tenant_id, data.name, segment.id)
        segment.name = data.name
    if "description" in data.model_fields_set:
        segment.description = data.description
    await session.flush()
    return segment


async def delete_segment(session: AsyncSession, tenant_id: UUID, segment_id: UUID) -> None:
    segment = await get_segment(session, tenant_id, segment_id)
    await SegmentRepository(session).delete(segment)
    await session.flush()


async def list_segments(
    session: AsyncSession, tenant_id: UUID, params: PageParams
) -> Slice[Segment]:
    return await SegmentRepository(session).list(tenant_id, params)


async def count_matching(session: AsyncSession, tenant_id: UUID, rules: Any) -> int:
    where = await compile_for_tenant(session, tenant_id, rules)
    return await SegmentRepository(session).count(tenant_id, where)


async def preview_rules(
    session: AsyncSession,
    tenant_id: UUID,
    rules: Any,
    sample: int,
    channel: ChannelKind | None = None,
) -> Preview:
    """The count and a sample of who ``rules`` match now; with a channel, also how many of
    them a marketing campaign could reach there (consent, do-not-contact, suppression)."""
    where = await compile_for_tenant(session, tenant_id, rules)
    repo = SegmentRepository(session)
    eligible_count = None
    if channel is not None:
        reachable = and_(where, *eligible(tenant_id, channel, Purpose.marketing))
        eligible_count = await repo.count(tenant_id, reachable)
    contacts = await repo.sample(tenant_id, where, sample)
    return Preview(
        count=await repo.count(tenant_id, where),
        sample=[SegmentContact.model_validate(c) for c in contacts],
        eligible_count=eligible_count,
    )


async def preview_segment(
    session: AsyncSession,
    tenant_id: UUID,
    segment_id: UUID,
    sample: int,
    channel: ChannelKind | None = None,
) -> Preview:
    segment = await get_segment(session, tenant_id, segment_id)
    return await preview_rules(session, tenant_id, segment.rules, sample, channel)


async def refresh_segment(session: AsyncSession, tenant_id: UUID, segment_id: UUID) -> Segment:
    """Materialize the memberships. The segment row is locked first, so two refreshes of one
    segment run one after the other instead of interleaving their INSERT and DELETE."""
    segment = await get_segment(session, tenant_id, segment_id, for_update=True)
    ctx = await compile_context(session, tenant_id)
    where = compile_node(parse_rules(segment.rules), ctx)
    await SegmentRepository(session).refresh(segment, where, ctx.now)
    return segment


async def list_members(
    session: AsyncSession, tenant_id: UUID, segment_id: UUID, params: PageParams
) -> Slice[Contact]:
    await get_segment(session, tenant_id, segment_id)
    return await SegmentRepository(session).members(tenant_id, segment_id, params)


async def resolve_audience(
    session: AsyncSession, tenant_id: UUID, segment_id: UUID
) -> Select[Contact]:
    """The segment's contacts as of now, rules re-evaluated (not the materialized memberships,
    which may be stale): what a campaign launch targets. Callers add eligibility and pick the
    columns they need (``.with_only_columns(Contact.id)`` for an ``INSERT … SELECT``)."""
    segment = await get_segment(session, tenant_id, segment_id)
    where = await compile_for_tenant(session, tenant_id, segment.rules)
    return matching(tenant_id, where)
