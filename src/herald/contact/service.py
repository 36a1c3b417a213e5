"""The rules of contacts: phone parsing, duplicates, consent with proof, erasure.

Services flush but never commit: the request's transaction commits when the route returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.audit import service as audit
from herald.contact.consent import RESUBSCRIBE_HINT, check_transition
from herald.contact.dnc_hash import phone_hash
from herald.contact.models import (
    ChannelKind,
    ConsentEvent,
    ConsentMethod,
    ConsentStatus,
    Contact,
    DncReason,
    DoNotContact,
    SuppressionRule,
)
from herald.contact.repository import (
    ConsentRepository,
    ContactRepository,
    DncRepository,
    ReportedOptOut,
    SuppressionRuleRepository,
)
from herald.contact.schemas import (
    BulkTags,
    BulkTagsResult,
    ConsentChange,
    ConsentEventRead,
    ContactCreate,
    ContactExport,
    ContactFilter,
    ContactRead,
    ContactUpdate,
    DncBulk,
    DncBulkRemove,
    DncBulkRemoveResult,
    DncBulkResult,
    DncCreate,
    DncRead,
    RejectedPhone,
    SortField,
    SortOrder,
    SuppressionRuleCreate,
    SuppressionRuleRead,
    SuppressionRuleUpdate,
)
from herald.kit.context import SYSTEM, Actor
from herald.kit.errors import Conflict, Gone, NotFound, Unprocessable
from herald.kit.models import utcnow
from herald.kit.pagination import Page, PageParams
from herald.kit.phone import PhoneError, parse_phone
from herald.kit.wording import with_article
from herald.tenant.repository import TenantRepository

ERASED_REASON = "erased at the person's request"
DNC_TABLE = DoNotContact.__tablename__
ERASED_DNC = (
    "This entry belongs to a person who asked to be forgotten; it stays on the list so they "
    "are never messaged again, and cannot be removed."
)
_CONSENT_KEYS = ("sms_status", "whatsapp_status", "consent_source", "consent_wording")


def to_read(row: Row[Contact, bool]) -> ContactRead:
    contact, on_dnc = row
    return ContactRead.model_validate(contact).model_copy(update={"do_not_contact": bool(on_dnc)})


async def tenant_region(session: AsyncSession, tenant_id: UUID, country: str | None) -> str:
    """The country national numbers are read in: the explicit one, else the tenant's."""
    if country:
        return country
    tenant = await TenantRepository(session).get(tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant {tenant_id}.")
    return tenant.country


def parse_or_422(raw: str, region: str, field: str = "phone") -> str:
    try:
        return parse_phone(raw, region)
    except PhoneError as exc:
        raise Unprocessable(
            f"{field}: {exc}. Write the number in international format (+<country code>…) "
            f"or as a national number of {region} (or pass 'country').",
            reason=exc.reason,
        ) from exc


def status_of(contact: Contact, channel: ChannelKind) -> ConsentStatus:
    return contact.sms_status if channel is ChannelKind.sms else contact.whatsapp_status


def apply_consent(
    session: AsyncSession,
    contact: Contact,
    change: ConsentChange,
    actor: Actor,
    details: dict[str, Any] | None = None,
) -> ConsentEvent:
    """Set the channel's status and write its proof (one event, same transaction)."""
    now = utcnow()
    previous = status_of(contact, change.channel)
    prefix = change.channel.value
    setattr(contact, f"{prefix}_status", change.status)
    setattr(contact, f"{prefix}_source", change.source or change.method.value)
    setattr(contact, f"{prefix}_changed_at", now)
    event = ConsentEvent(
        tenant_id=contact.tenant_id,
        contact_id=contact.id,
        channel=change.channel,
        status=change.status,
        previous_status=previous,
        method=change.method,
        source=change.source,
        wording=change.wording,
        actor=actor.label,
        ip=actor.ip,
        details=details or {},
        occurred_at=now,
    )
    ConsentRepository(session).add(event)
    return event


def consent_changes(fields: dict[str, Any]) -> list[ConsentChange]:
    """The consent statuses a create or update asks for, as changes made through the API."""
    return [
        ConsentChange(
            channel=channel,
            status=fields[f"{channel.value}_status"],
            method=ConsentMethod.api,
            source=fields.get("consent_source"),
            wording=fields.get("consent_wording"),
        )
        for channel in ChannelKind
        if fields.get(f"{channel.value}_status") is not None
    ]


async def check_unique(
    session: AsyncSession,
    tenant_id: UUID,
    phone: str | None,
    email: str | None,
    exclude: UUID | None = None,
    wanted: list[ConsentChange] | None = None,
) -> None:
    """409 naming the contact that already holds this phone or email."""
    existing = await ContactRepository(session).find_duplicate(tenant_id, phone, email, exclude)
    if existing is None:
        return
    what = "phone number" if phone is not None and existing.phone_e164 == phone else "email"
    detail = (
        f"Contact {existing.id} already has this {what}, and {with_article(what)} belongs to one "
        "contact "
        f"per account; change that contact (PATCH /v1/contacts/{existing.id}) instead."
    )
    for change in wanted or []:
        if status_of(existing, change.channel) is ConsentStatus.opted_out and (
            change.status is not ConsentStatus.opted_out
        ):
            detail += f" It opted out of {change.channel.value}. " + RESUBSCRIBE_HINT % (
                change.channel.value
            )
    raise Conflict(detail, existing_id=str(existing.id))


async def flush_unique(session: AsyncSession) -> None:
    """Flush; a concurrent insert of the same phone or email still answers 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Another contact with this phone number or email was saved at the same time; "
            "look it up and update it instead."
        ) from exc


async def read_contact(session: AsyncSession, tenant_id: UUID, contact_id: UUID) -> ContactRead:
    row = await ContactRepository(session).get_read(tenant_id, contact_id)
    if row is None:
        raise NotFound(f"No contact {contact_id}.")
    return to_read(row)


async def locked_contact(session: AsyncSession, tenant_id: UUID, contact_id: UUID) -> Contact:
    """The contact, locked for a change; erased contacts cannot change."""
    contact = await ContactRepository(session).get_for_update(tenant_id, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.")
    if contact.erased_at is not None:
        raise Gone(f"Contact {contact_id} was erased; its personal data is gone for good.")
    return contact


async def create_contact(
    session: AsyncSession, tenant_id: UUID, data: ContactCreate, actor: Actor
) -> ContactRead:
    region = await tenant_region(session, tenant_id, data.country)
    phone = parse_or_422(data.phone, region)
    fields = data.model_dump(exclude_unset=True, exclude={"phone", "country", *_CONSENT_KEYS})
    changes = consent_changes(data.model_dump())
    await check_unique(session, tenant_id, phone, data.email, wanted=changes)
    fields.setdefault("source", "api")
    contact = Contact(tenant_id=tenant_id, phone_e164=phone, **_not_null(fields))
    ContactRepository(session).add(contact)
    await flush_unique(session)
    for change in changes:
        if change.status is not ConsentStatus.unknown:
            apply_consent(session, contact, change, actor)
    await session.flush()
    return await read_contact(session, tenant_id, contact.id)


def _not_null(fields: dict[str, Any]) -> dict[str, Any]:
    """``null`` on a list, map or flag means its empty value."""
    empty: dict[str, Any] = {"tags": [], "custom_fields": {}, "blocked": False}
    return {k: empty.get(k) if v is None and k in empty else v for k, v in fields.items()}


async def update_contact(
    session: AsyncSession, tenant_id: UUID, contact_id: UUID, data: ContactUpdate, actor: Actor
) -> ContactRead:
    contact = await locked_contact(session, tenant_id, contact_id)
    sent = data.model_dump(exclude_unset=True)
    changes = [c for c in consent_changes(sent) if c.status is not status_of(contact, c.channel)]
    for change in changes:
        check_transition(change.channel, status_of(contact, change.channel), change.status)
    phone = None
    if sent.get("phone") is not None:
        region = await tenant_region(session, tenant_id, data.country)
        phone = parse_or_422(sent["phone"], region)
    await check_unique(session, tenant_id, phone, sent.get("email"), exclude=contact.id)
    if phone is not None:
        contact.phone_e164 = phone
    fields = {k: v for k, v in sent.items() if k not in {"phone", "country", *_CONSENT_KEYS}}
    for field, value in _not_null(fields).items():
        setattr(contact, field, value)
    for change in changes:
        apply_consent(session, contact, change, actor)
    contact.updated_at = utcnow()
    await flush_unique(session)
    return await read_contact(session, tenant_id, contact.id)


async def list_contacts(
    session: AsyncSession,
    tenant_id: UUID,
    where: ContactFilter,
    sort: SortField,
    order: SortOrder,
    params: PageParams,
) -> Page[ContactRead]:
    found = await ContactRepository(session).list_page(tenant_id, where, sort, order, params)
    return Page(items=[to_read(row) for row in found.items], next_cursor=found.next_cursor)


async def change_consent(
    session: AsyncSession, tenant_id: UUID, contact_id: UUID, change: ConsentChange, actor: Actor
) -> ConsentEventRead:
    """Record a consent change. Re-confirming the same status is recorded too: it is proof."""
    contact = await locked_contact(session, tenant_id, contact_id)
    current = status_of(contact, change.channel)
    check_transition(change.channel, current, change.status, resubscribe=change.resubscribe)
    details = {"resubscribe": True} if change.resubscribe else {}
    event = apply_consent(session, contact, change, actor, details)
    contact.updated_at = utcnow()
    await session.flush()
    return ConsentEventRead.model_validate(event)


async def consent_history(
    session: AsyncSession, tenant_id: UUID, contact_id: UUID
) -> list[ConsentEventRead]:
    await read_contact(session, tenant_id, contact_id)
    events = await ConsentRepository(session).history(tenant_id, contact_id)
    return [ConsentEventRead.model_validate(e) for e in events]


async def delete_contact(
    session: AsyncSession, tenant_id: UUID, contact_id: UUID, actor: Actor
) -> None:
    """Delete the row. An opt-out must outlive it: a contact that opted out of any channel
    leaves its number on the do-not-contact list, or creating it again would reset consent."""
    repo = ContactRepository(session)
    contact = await repo.get_for_update(tenant_id, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.")
    opted_out = any(status_of(contact, c) is ConsentStatus.opted_out for c in ChannelKind)
    if opted_out and contact.phone_e164 is not None:
        await DncRepository(session).add_many(
            tenant_id,
            {phone_hash(tenant_id, contact.phone_e164): contact.phone_e164},
            DncReason.stop,
            KEPT_OPT_OUT_NOTE,
            actor.label,
        )
    await repo.delete(contact)
    await session.flush()


KEPT_OPT_OUT_NOTE = "kept from a deleted contact that had opted out"


def erased_values() -> dict[str, Any]:
    """The columns an erasure overwrites, and with what."""
    values: dict[str, Any] = dict.fromkeys(Contact.__personal_data__)
    values.update(tags=[], custom_fields={}, blocked=True, blocked_reason=ERASED_REASON)
    for channel in ChannelKind:
        values[f"{channel.value}_status"] = ConsentStatus.opted_out
        values[f"{channel.value}_source"] = ConsentMethod.erasure.value
        values[f"{channel.value}_changed_at"] = utcnow()
    return values


@dataclass(frozen=True)
class ErasedPerson:
    """Who an erasure forgot, for the other domains holding copies of them (import files and
    rejected rows) to find and forget them too, in the same transaction."""

    phone_e164: str | None
    email: str | None


async def erase_contact(
    session: AsyncSession, tenant_id: UUID, contact_id: UUID, actor: Actor
) -> ErasedPerson:
    """Forget the person but keep an anonymous row, and keep their number unreachable.

    The number survives only as its hash on the do-not-contact list (reason ``erased``), so a
    later import or create of the same number is flagged and never messaged. The consent
    history is deleted; one anonymous ``erasure`` event per channel records that it ended.
    """
    contact = await locked_contact(session, tenant_id, contact_id)
    if contact.phone_e164 is not None:
        hashed = phone_hash(tenant_id, contact.phone_e164)
        await DncRepository(session).mark_erased(tenant_id, hashed, actor.label)
    await ConsentRepository(session).delete_for(tenant_id, contact.id)
    previous = {channel: status_of(contact, channel) for channel in ChannelKind}
    session.expunge(contact)
    await ContactRepository(session).erase(tenant_id, contact_id, erased_values())
    for channel in ChannelKind:
        ConsentRepository(session).add(
            ConsentEvent(
                tenant_id=tenant_id,
                contact_id=contact_id,
                channel=channel,
                status=ConsentStatus.opted_out,
                previous_status=previous[channel],
                method=ConsentMethod.erasure,
                actor=actor.label,
                ip=actor.ip,
            )
        )
    await session.flush()
    await audit.record(session, "contact.erased", Contact.__tablename__, contact_id)
    return ErasedPerson(phone_e164=contact.phone_e164, email=contact.email)


async def export_contact(session: AsyncSession, tenant_id: UUID, contact_id: UUID) -> ContactExport:
    contact = await read_contact(session, tenant_id, contact_id)
    entry: DoNotContact | None = None
    if contact.phone_e164 is not None:
        hashed = phone_hash(tenant_id, contact.phone_e164)
        entry = await DncRepository(session).get(tenant_id, hashed)
    return ContactExport(
        exported_at=utcnow(),
        contact=contact,
        consent_events=await consent_history(session, tenant_id, contact_id),
        do_not_contact=DncRead.model_validate(entry) if entry else None,
    )


async def bulk_tags(session: AsyncSession, tenant_id: UUID, data: BulkTags) -> BulkTagsResult:
    matched, changed = await ContactRepository(session).bulk_tags(
        tenant_id, data.filter, data.add, data.remove
    )
    result = BulkTagsResult(matched=matched, changed=changed)
    await audit.record(
        session,
        "contact.tags_bulk_updated",
        Contact.__tablename__,
        # Counts and filter names only: tags and search terms are personal data.
        changes={
            "filter": sorted(data.filter.model_dump(exclude_defaults=True)),
            "tags_added": len(data.add),
            "tags_removed": len(data.remove),
            **result.model_dump(),
        },
    )
    return result


def _hash_all(
    tenant_id: UUID, phones: list[str], region: str
) -> tuple[dict[str, str], list[RejectedPhone]]:
    """Parse every number: ``{hash: e164}`` of the good ones (deduplicated), and the rejects."""
    good: dict[str, str] = {}
    rejected: list[RejectedPhone] = []
    for raw in phones:
        try:
            e164 = parse_phone(raw, region)
        except PhoneError as exc:
            rejected.append(RejectedPhone(phone=raw, reason=exc.reason))
            continue
        good[phone_hash(tenant_id, e164)] = e164
    return good, rejected


async def add_dnc(session: AsyncSession, tenant_id: UUID, data: DncCreate, actor: Actor) -> DncRead:
    region = await tenant_region(session, tenant_id, data.country)
    e164 = parse_or_422(data.phone, region)
    hashed = phone_hash(tenant_id, e164)
    repo = DncRepository(session)
    added = await repo.add_many(
        tenant_id, {hashed: e164}, DncReason(data.reason.value), data.note, actor.label
    )
    entry = await repo.get(tenant_id, hashed)
    if not added and entry is not None:
        raise Conflict(
            f"{e164} is already on the do-not-contact list (reason {entry.reason.value}).",
            existing_id=str(entry.id),
        )
    await audit.record(
        session,
        "do_not_contact.created",
        DNC_TABLE,
        entry.id if entry else None,
        changes={"reason": data.reason.value},
    )
    return DncRead.model_validate(entry)


async def add_dnc_bulk(
    session: AsyncSession, tenant_id: UUID, data: DncBulk, actor: Actor
) -> DncBulkResult:
    region = await tenant_region(session, tenant_id, data.country)
    good, rejected = _hash_all(tenant_id, data.phones, region)
    added = await DncRepository(session).add_many(
        tenant_id, good, DncReason(data.reason.value), data.note, actor.label
    )
    result = DncBulkResult(
        added=len(added), already_present=len(good) - len(added), rejected=rejected
    )
    await audit.record(
        session,
        "do_not_contact.bulk_added",
        DNC_TABLE,
        changes={"reason": data.reason.value, **result.model_dump(exclude={"rejected"})},
    )
    return result


async def remove_dnc(
    session: AsyncSession, tenant_id: UUID, phone: str, country: str | None
) -> None:
    region = await tenant_region(session, tenant_id, country)
    e164 = parse_or_422(phone, region)
    repo = DncRepository(session)
    entry = await repo.get(tenant_id, phone_hash(tenant_id, e164))
    if entry is None:
        raise NotFound(f"{e164} is not on the do-not-contact list.")
    if entry.reason is DncReason.erased:
        raise Conflict(ERASED_DNC)
    await repo.remove_many(tenant_id, [entry.phone_hash])
    await audit.record(
        session,
        "do_not_contact.deleted",
        DNC_TABLE,
        entry.id,
        changes={"reason": entry.reason.value},
    )


async def remove_dnc_bulk(
    session: AsyncSession, tenant_id: UUID, data: DncBulkRemove
) -> DncBulkRemoveResult:
    region = await tenant_region(session, tenant_id, data.country)
    good, rejected = _hash_all(tenant_id, data.phones, region)
    repo = DncRepository(session)
    erased = await repo.erased_among(tenant_id, list(good))
    rejected += [RejectedPhone(phone=good[h], reason=ERASED_DNC) for h in erased]
    removed = await repo.remove_many(tenant_id, list(good))
    result = DncBulkRemoveResult(
        removed=len(removed), not_found=len(good) - len(removed) - len(erased), rejected=rejected
    )
    await audit.record(
        session,
        "do_not_contact.bulk_removed",
        DNC_TABLE,
        changes=result.model_dump(exclude={"rejected"}),
    )
    return result


async def list_dnc(
    session: AsyncSession, tenant_id: UUID, reason: DncReason | None, params: PageParams
) -> Page[DncRead]:
    found = await DncRepository(session).list_page(tenant_id, reason, params)
    items = [DncRead.model_validate(r) for r in found.items]
    return Page(items=items, next_cursor=found.next_cursor)


async def _rule(session: AsyncSession, tenant_id: UUID, rule_id: UUID) -> SuppressionRule:
    rule = await SuppressionRuleRepository(session).get(tenant_id, rule_id)
    if rule is None:
        raise NotFound(f"No suppression rule {rule_id}.")
    return rule


async def read_rule(session: AsyncSession, tenant_id: UUID, rule_id: UUID) -> SuppressionRuleRead:
    return SuppressionRuleRead.model_validate(await _rule(session, tenant_id, rule_id))


async def create_rule(
    session: AsyncSession, tenant_id: UUID, data: SuppressionRuleCreate
) -> SuppressionRuleRead:
    rule = SuppressionRule(tenant_id=tenant_id, **data.model_dump())
    SuppressionRuleRepository(session).add(rule)
    await session.flush()
    return SuppressionRuleRead.model_validate(rule)


async def update_rule(
    session: AsyncSession, tenant_id: UUID, rule_id: UUID, data: SuppressionRuleUpdate
) -> SuppressionRuleRead:
    """Apply what was sent; ``null`` clears ``channel`` and ``expires_at`` only."""
    rule = await _rule(session, tenant_id, rule_id)
    nullable = {"channel", "expires_at"}
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is not None or field in nullable:
            setattr(rule, field, value)
    rule.updated_at = utcnow()
    await session.flush()
    return SuppressionRuleRead.model_validate(rule)


async def delete_rule(session: AsyncSession, tenant_id: UUID, rule_id: UUID) -> None:
    repo = SuppressionRuleRepository(session)
    await repo.delete(await _rule(session, tenant_id, rule_id))
    await session.flush()


async def list_rules(
    session: AsyncSession, tenant_id: UUID, params: PageParams
) -> Page[SuppressionRuleRead]:
    found = await SuppressionRuleRepository(session).list_page(tenant_id, params)
    items = [SuppressionRuleRead.model_validate(r) for r in found.items]
    return Page(items=items, next_cursor=found.next_cursor)


async def record_reported_opt_outs(
    session: AsyncSession, reported: Sequence[ReportedOptOut], now: datetime
) -> int:
    """Opt contacts out of a medium because its provider reported that they opted out there
    (a carrier's STOP list, WhatsApp's "stop marketing" choice): set-based, for a batch of
    receipts. The provider is the proof's source and its error code is in the details."""
    if not reported:
        return 0
    return await ConsentRepository(session).opt_out_many(
        reported, ConsentMethod.integration, SYSTEM.label, now
    )
