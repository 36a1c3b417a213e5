"""All SQL of messages and events: one-message creation with its idempotency key, the lists,
the event log other domains append to, and erasure.

``record_events(session, rows)`` is what the services that change a message's state (dispatch,
receipts) call: one ``INSERT`` for many events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    null,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel.models import Channel
from herald.contact.eligibility import Purpose, eligible, on_dnc_list, recently_messaged
from herald.contact.eligibility import status_column as consent_column
from herald.contact.models import ChannelKind, ConsentStatus, Contact
from herald.kit.ids import new_id
from herald.kit.models import utcnow
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.message.models import EventType, Message, MessageEvent
from herald.message.schemas import EventFilters, MessageFilters

EVENT_COLUMNS = ("tenant_id", "type", "message_id", "contact_id", "campaign_id", "data")
EVENT_KEYS = ("id", *EVENT_COLUMNS[:5], "occurred_at", "data")
EVENT_BATCH = 5000
"""Rows per statement: bounds the arrays one statement carries."""


class NewEvent(TypedDict, total=False):
    """One row for ``record_events``: ``tenant_id`` and ``type`` are required."""

    tenant_id: UUID
    type: EventType | str
    message_id: UUID | None
    contact_id: UUID | None
    campaign_id: UUID | None
    data: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True)
class Standing:
    """Everything the eligibility rules look at for one contact on one channel kind."""

    contact_id: UUID
    phone: str | None
    erased: bool
    blocked: bool
    consent: ConsentStatus
    do_not_contact: bool
    suppressed: bool
    eligible: bool


def _event_row(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Every row with the same keys, as one multi-row ``INSERT`` needs."""
    missing = {"tenant_id", "type"} - row.keys()
    if missing:
        raise ValueError(f"an event needs {', '.join(sorted(missing))}")
    values = {key: row.get(key) for key in EVENT_COLUMNS}
    values["type"] = EventType(row["type"]).value
    values["data"] = values["data"] or {}
    values["id"] = row.get("id") or new_id()
    values["occurred_at"] = row.get("occurred_at") or now
    return values


_EVENTS = text(
    """
    INSERT INTO events (id, tenant_id, type, message_id, contact_id, campaign_id, occurred_at,
                        data)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:tenant_ids AS uuid[]),
                         CAST(:types AS text[]), CAST(:message_ids AS uuid[]),
                         CAST(:contact_ids AS uuid[]), CAST(:campaign_ids AS uuid[]),
                         CAST(:occurred_ats AS timestamptz[]), CAST(:datas AS jsonb[]))
    """
)
"""Rows as parallel arrays: one statement whatever the batch, with no statement text to build
per row (the dispatch hot path appends a batch's events at once)."""


async def record_events(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
    """Append events (each a ``NewEvent``: ``tenant_id``, ``type`` and optionally
    ``message_id``, ``contact_id``, ``campaign_id``, ``data``, ``occurred_at``) with one
    statement per ``EVENT_BATCH`` rows. Returns the count."""
    now = utcnow()
    values = [_event_row(row, now) for row in rows]
    for start in range(0, len(values), EVENT_BATCH):
        batch = values[start : start + EVENT_BATCH]
        arrays = {f"{key}s": [row[key] for row in batch] for key in EVENT_KEYS}
        arrays["datas"] = [orjson.dumps(data).decode() for data in arrays["datas"]]
        await session.execute(_EVENTS, arrays)
    return len(values)


def _between(
    column: Any, since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(column >= since)
    if until is not None:
        where.append(column < until)
    return where


class MessageRepository(Repository):
    async def channel(
        self, tenant_id: UUID, channel_id: UUID, *, hold: bool = False
    ) -> Channel | None:
        """The channel; ``hold`` keeps it from being deleted until the transaction ends (``FOR
        KEY SHARE``, what a foreign key check did: ``messages`` has none, see migration 0023)."""
        stmt = select(Channel).where(Channel.tenant_id == tenant_id, Channel.id == channel_id)
        if hold:
            stmt = stmt.with_for_update(read=True, key_share=True)
        return await self.session.scalar(stmt)

    async def get(self, tenant_id: UUID, message_id: UUID) -> Message | None:
        return await self.session.scalar(
            select(Message).where(Message.tenant_id == tenant_id, Message.id == message_id)
        )

    async def by_key(self, tenant_id: UUID, key: str) -> Message | None:
        return await self.session.scalar(
            select(Message).where(Message.tenant_id == tenant_id, Message.idempotency_key == key)
        )

    async def contact_for_number(self, tenant_id: UUID, phone: str) -> tuple[UUID, bool]:
        """The contact holding ``phone``, created (source ``api``, consent unknown) when there
        is none; ``True`` when created. A concurrent creation of the same number waits on the
        unique index and then finds the other's row."""
        created = await self.session.scalar(
            insert(Contact)
            .values(id=new_id(), tenant_id=tenant_id, phone_e164=phone, source="api")
            .on_conflict_do_nothing(index_elements=["tenant_id", "phone_e164"])
            .returning(Contact.id)
        )
        if created is not None:
            return created, True
        found = await self.session.scalar(
            select(Contact.id).where(Contact.tenant_id == tenant_id, Contact.phone_e164 == phone)
        )
        if found is None:  # pragma: no cover - the conflicting row cannot vanish in between
            raise LookupError(f"the contact holding {phone} disappeared")
        return found, False

    async def standing(
        self, tenant_id: UUID, contact_id: UUID, kind: ChannelKind, purpose: Purpose
    ) -> Standing | None:
        """One query for every eligibility rule at once, so a refusal can name its rule; the
        ``eligible`` flag is ``herald.contact.eligibility``'s own verdict, the final word."""
        row = (
            await self.session.execute(
                select(
                    Contact.id,
                    Contact.phone_e164,
                    Contact.erased_at.is_not(None),
                    Contact.blocked,
                    consent_column(kind),
                    on_dnc_list(),
                    recently_messaged(tenant_id, kind)
                    if purpose is Purpose.marketing
                    else literal(False),
                    and_(*eligible(tenant_id, kind, purpose)),
                ).where(Contact.tenant_id == tenant_id, Contact.id == contact_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return Standing(
            contact_id=row[0],
            phone=row[1],
            erased=bool(row[2]),
            blocked=bool(row[3]),
            consent=ConsentStatus(row[4]),
            do_not_contact=bool(row[5]),
            suppressed=bool(row[6]),
            eligible=bool(row[7]),
        )

    async def insert_once(self, values: dict[str, Any]) -> Message | None:
        """Insert the message unless its tenant already holds its idempotency key (then
        ``None``): the unique constraint, not a prior read, decides between racing requests."""
        stmt = insert(Message).values(**values)
        if values.get("idempotency_key") is not None:
            stmt = stmt.on_conflict_do_nothing(
                index_elements=["tenant_id", "idempotency_key"],
                index_where=Message.idempotency_key.is_not(None),
            )
        inserted: Message | None = await self.session.scalar(stmt.returning(Message))
        return inserted

    async def list(
        self, tenant_id: UUID, filters: MessageFilters, params: PageParams
    ) -> Slice[Message]:
        """Newest first."""
        stmt: Select[Any] = select(Message).where(Message.tenant_id == tenant_id)
        for column, value in (
            (Message.channel_id, filters.channel_id),
            (Message.contact_id, filters.contact_id),
            (Message.campaign_id, filters.campaign_id),
            (Message.status, filters.status),
            (Message.direction, filters.direction),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        stmt = stmt.where(*_between(Message.created_at, filters.since, filters.until))
        return await self.page(stmt, params, Message.created_at, Message.id, descending=True)

    async def events(
        self, tenant_id: UUID, filters: EventFilters, params: PageParams
    ) -> Slice[MessageEvent]:
        """Newest first."""
        E = MessageEvent
        stmt: Select[Any] = select(E).where(E.tenant_id == tenant_id)
        for column, value in (
            (E.type, filters.type),
            (E.message_id, filters.message_id),
            (E.contact_id, filters.contact_id),
            (E.campaign_id, filters.campaign_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        stmt = stmt.where(*_between(E.occurred_at, filters.since, filters.until))
        return await self.page(stmt, params, E.occurred_at, E.id, descending=True)

    async def erase_contact(self, tenant_id: UUID, contact_id: UUID) -> int:
        """Blank the personal data of a contact's messages and events, two statements: bodies,
        numbers, template values and provider reasons (which may quote the number) go; the
        template's name and language, costs, statuses and times stay for the accounts."""
        erased = await self.session.execute(
            update(Message)
            .where(Message.tenant_id == tenant_id, Message.contact_id == contact_id)
            .values(
                body=None,
                to_address=None,
                from_address=None,
                error_reason=None,
                template=case(
                    (
                        Message.template.is_not(None),
                        func.jsonb_build_object(
                            "name",
                            Message.template["name"],
                            "language",
                            Message.template["language"],
                        ),
                    ),
                    else_=null(),
                ),
                updated_at=func.now(),
            )
        )
        await self.session.execute(
            update(MessageEvent)
            .where(MessageEvent.tenant_id == tenant_id, MessageEvent.contact_id == contact_id)
            .values(data={})
        )
        return int(erased.rowcount or 0)  # type: ignore[attr-defined]
