"""All SQL of contacts, consent events, the do-not-contact list and suppression rules."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Row,
    Select,
    Text,
    all_,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import InstrumentedAttribute

from herald.contact.eligibility import on_dnc_list
from herald.contact.models import (
    ChannelKind,
    ConsentEvent,
    ConsentMethod,
    Contact,
    DncReason,
    DoNotContact,
    SuppressionRule,
)
from herald.contact.schemas import ContactFilter, SortField, SortOrder
from herald.kit.ids import new_id
from herald.kit.pagination import PageParams, Slice, encode_cursor, keyset
from herald.kit.repository import Repository

NO_TIME = datetime(1, 1, 1, tzinfo=UTC)
"""Stands for a missing time in sort keys, so that NULLs sort first ascending (and keyset works)."""
PHONE_QUERY = re.compile(r"^\+?[\d\s().-]+$")


@dataclass(frozen=True)
class SortKey:
    """A sort column as SQL (NULL-free) and the same value read back from a row."""

    expression: ColumnElement[Any]
    attribute: str
    missing: Any = None

    def value(self, contact: Contact) -> Any:
        value = getattr(contact, self.attribute)
        return self.missing if value is None else value


SORT_KEYS = {
    SortField.created_at: SortKey(Contact.created_at.expression, "created_at"),
    SortField.updated_at: SortKey(Contact.updated_at.expression, "updated_at"),
    SortField.last_name: SortKey(func.coalesce(Contact.last_name, literal("")), "last_name", ""),
    SortField.last_message_at: SortKey(
        func.coalesce(Contact.last_message_at, literal(NO_TIME, DateTime(timezone=True))),
        "last_message_at",
        NO_TIME,
    ),
}


def contact_filter(tenant_id: UUID, where: ContactFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a contact filter (list and bulk actions share them)."""
    conditions: list[ColumnElement[bool]] = [Contact.tenant_id == tenant_id]
    if where.tag is not None:
        conditions.append(Contact.tags.contains([where.tag]))
    if where.sms_status is not None:
        conditions.append(Contact.sms_status == where.sms_status)
    if where.whatsapp_status is not None:
        conditions.append(Contact.whatsapp_status == where.whatsapp_status)
    if where.source is not None:
        conditions.append(Contact.source == where.source)
    if where.created_after is not None:
        conditions.append(Contact.created_at >= where.created_after)
    if where.created_before is not None:
        conditions.append(Contact.created_at < where.created_before)
    if where.q is not None:
        conditions.append(search(where.q))
    return conditions


def search(q: str) -> ColumnElement[bool]:
    """A number (digits, with + ( ) - . and spaces) searches phone numbers by prefix; anything
    else is a case-insensitive prefix of a first name, last name or email."""
    text = q.strip().lower()
    digits = re.sub(r"\D", "", text)
    if digits and PHONE_QUERY.match(text):
        return phone_prefix("+" + digits)
    return or_(
        func.lower(Contact.first_name).startswith(text, autoescape=True),
        func.lower(Contact.last_name).startswith(text, autoescape=True),
        func.lower(Contact.email).startswith(text, autoescape=True),
    )


def phone_prefix(prefix: str) -> ColumnElement[bool]:
    """Numbers starting with ``prefix`` (``+`` and digits) as a range, ``prefix <= phone <
    next``: text comparisons are leakproof, so under row-level security the unique
    ``(tenant_id, phone_e164)`` index serves it, where ``LIKE`` gets a scan of the tenant.
    The next prefix drops trailing nines and counts the last digit up (``+1299`` → ``+13``);
    a prefix of nines only has no upper end."""
    head = prefix.rstrip("9")
    from_prefix = Contact.phone_e164 >= prefix
    if len(head) <= 1:
        return from_prefix
    upper = head[:-1] + chr(ord(head[-1]) + 1)
    return and_(from_prefix, Contact.phone_e164 < upper)


def merged_tags(add: list[str], remove: list[str]) -> ColumnElement[Any]:
    """``tags + add - remove``, first occurrence order kept, duplicates dropped."""
    tags = (
        func.unnest(func.array_cat(Contact.tags, bindparam("add_tags", add, type_=ARRAY(Text))))
        .table_valued("tag", with_ordinality="n")
        .render_derived()
    )
    kept = (
        select(tags.c.tag)
        .where(tags.c.tag != all_(bindparam("remove_tags", remove, type_=ARRAY(Text))))
        .group_by(tags.c.tag)
        .order_by(func.min(tags.c.n))
    )
    return func.array(kept.scalar_subquery())


class ContactRepository(Repository):
    @staticmethod
    def _read() -> Select[Contact, bool]:
        """Contacts with ``do_not_contact`` computed in the same query."""
        return select(Contact, on_dnc_list().label("do_not_contact"))

    async def get_read(self, tenant_id: UUID, contact_id: UUID) -> Row[Contact, bool] | None:
        stmt = self._read().where(Contact.tenant_id == tenant_id, Contact.id == contact_id)
        return (await self.session.execute(stmt)).first()

    async def get_for_update(self, tenant_id: UUID, contact_id: UUID) -> Contact | None:
        return await self.session.scalar(
            select(Contact)
            .where(Contact.tenant_id == tenant_id, Contact.id == contact_id)
            .with_for_update()
        )

    async def find_duplicate(
        self, tenant_id: UUID, phone: str | None, email: str | None, exclude: UUID | None
    ) -> Contact | None:
        """Another contact of the tenant with this phone or (case-insensitively) this email."""
        same: list[ColumnElement[bool]] = []
        if phone is not None:
            same.append(Contact.phone_e164 == phone)
        if email is not None:
            same.append(func.lower(Contact.email) == email.lower())
        if not same:
            return None
        stmt = select(Contact).where(Contact.tenant_id == tenant_id, or_(*same))
        if exclude is not None:
            stmt = stmt.where(Contact.id != exclude)
        return await self.session.scalar(stmt.limit(1))

    async def list_page(
        self,
        tenant_id: UUID,
        where: ContactFilter,
        sort: SortField,
        order: SortOrder,
        params: PageParams,
    ) -> Slice[Row[Contact, bool]]:
        """One page of the filtered contacts with their do-not-contact flag.

        Not ``Repository.page``: the rows are (contact, flag) pairs and two sort keys are
        NULL-free expressions rather than columns, so the cursor is read through ``SortKey``
        (a NULL in a cursor would end the list early)."""
        key = SORT_KEYS[sort]
        stmt = keyset(
            cast("Select[Any]", self._read().where(*contact_filter(tenant_id, where))),
            params,
            cast("InstrumentedAttribute[Any]", key.expression),
            Contact.id,
            descending=order is SortOrder.desc,
        )
        rows: list[Row[Contact, bool]] = list((await self.session.execute(stmt)).all())
        if len(rows) <= params.limit:
            return Slice(rows, None)
        rows = rows[: params.limit]
        last: Contact = rows[-1][0]
        return Slice(rows, encode_cursor(key.value(last), last.id))

    def add(self, contact: Contact) -> None:
        self.session.add(contact)

    async def erase(self, tenant_id: UUID, contact_id: UUID, personal: dict[str, Any]) -> None:
        """Overwrite the personal fields in SQL: the ORM would copy the old values into the
        audit log's change set, which is exactly what an erasure must not leave behind."""
        await self.session.execute(
            update(Contact)
            .where(Contact.tenant_id == tenant_id, Contact.id == contact_id)
            .values(**personal, erased_at=func.now(), updated_at=func.now())
            .execution_options(synchronize_session=False)
        )

    async def delete(self, contact: Contact) -> None:
        await self.session.delete(contact)

    async def bulk_tags(
        self, tenant_id: UUID, where: ContactFilter, add: list[str], remove: list[str]
    ) -> tuple[int, int]:
        """One UPDATE over the filter (erased rows excluded); returns (matched, changed)."""
        conditions = [*contact_filter(tenant_id, where), Contact.erased_at.is_(None)]
        matched = await self.session.scalar(
            select(func.count()).select_from(Contact).where(*conditions)
        )
        needs_change = or_(Contact.tags.overlap(remove), ~Contact.tags.contains(add))
        result = await self.session.execute(
            update(Contact)
            .where(*conditions, needs_change)
            .values(tags=merged_tags(add, remove), updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        return int(matched or 0), int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ReportedOptOut:
    """A provider's word that the contact opted out of a medium, with where it said so."""

    tenant_id: UUID
    contact_id: UUID
    channel: ChannelKind
    source: str
    details: dict[str, Any]


_OPT_OUT_MANY = text(
    """
    WITH reported AS (
        SELECT DISTINCT ON (v.tenant_id, v.contact_id, v.channel) v.*
        FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:contacts AS uuid[]),
                    CAST(:channels AS text[]), CAST(:sources AS text[]),
                    CAST(:details AS jsonb[]))
             AS v(id, tenant_id, contact_id, channel, source, details)
        ORDER BY v.tenant_id, v.contact_id, v.channel
    ),
    changing AS (
        SELECT r.*, CASE WHEN r.channel = 'sms' THEN k.sms_status
                         ELSE k.whatsapp_status END AS previous
        FROM reported r
        JOIN contacts k ON k.tenant_id = r.tenant_id AND k.id = r.contact_id
        WHERE k.erased_at IS NULL
          AND (CASE WHEN r.channel = 'sms' THEN k.sms_status ELSE k.whatsapp_status END)
              <> 'opted_out'
        FOR UPDATE OF k
    ),
    per_contact AS (
        SELECT tenant_id, contact_id,
               max(source) FILTER (WHERE channel = 'sms') AS sms_source,
               max(source) FILTER (WHERE channel = 'whatsapp') AS whatsapp_source
        FROM changing GROUP BY tenant_id, contact_id
    ),
    updated AS (
        UPDATE contacts k
        SET sms_status = CASE WHEN p.sms_source IS NULL THEN k.sms_status ELSE 'opted_out' END,
            sms_source = COALESCE(p.sms_source, k.sms_source),
            sms_changed_at = CASE WHEN p.sms_source IS NULL THEN k.sms_changed_at
                                  ELSE :now END,
            whatsapp_status = CASE WHEN p.whatsapp_source IS NULL THEN k.whatsapp_status
                                   ELSE 'opted_out' END,
            whatsapp_source = COALESCE(p.whatsapp_source, k.whatsapp_source),
            whatsapp_changed_at = CASE WHEN p.whatsapp_source IS NULL
                                       THEN k.whatsapp_changed_at ELSE :now END,
            updated_at = :now
        FROM per_contact p
        WHERE k.tenant_id = p.tenant_id AND k.id = p.contact_id
    )
    INSERT INTO consent_events (id, tenant_id, contact_id, channel, status, previous_status,
                                method, source, actor, details, occurred_at)
    SELECT id, tenant_id, contact_id, channel, 'opted_out', previous, :method, source,
           :actor, details, :now
    FROM changing
    """
)


class ConsentRepository(Repository):
    def add(self, event: ConsentEvent) -> None:
        self.session.add(event)

    async def opt_out_many(
        self,
        reported: Sequence[ReportedOptOut],
        method: ConsentMethod,
        actor: str | None,
        now: datetime,
    ) -> int:
        """Opt every reported contact out of its medium and write each change's proof, in one
        statement: contacts already opted out there, or erased, are left as they are. Returns
        how many changes were made."""
        result = await self.session.execute(
            _OPT_OUT_MANY,
            {
                "ids": [new_id() for _ in reported],
                "tenants": [r.tenant_id for r in reported],
                "contacts": [r.contact_id for r in reported],
                "channels": [r.channel.value for r in reported],
                "sources": [r.source[:200] for r in reported],
                "details": [json.dumps(r.details) for r in reported],
                "method": method.value,
                "actor": actor,
                "now": now,
            },
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def history(self, tenant_id: UUID, contact_id: UUID) -> Sequence[ConsentEvent]:
        """Newest first."""
        stmt = (
            select(ConsentEvent)
            .where(ConsentEvent.tenant_id == tenant_id, ConsentEvent.contact_id == contact_id)
            .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
        )
        return (await self.session.scalars(stmt)).all()

    async def delete_for(self, tenant_id: UUID, contact_id: UUID) -> None:
        await self.session.execute(
            delete(ConsentEvent).where(
                ConsentEvent.tenant_id == tenant_id, ConsentEvent.contact_id == contact_id
            )
        )


class DncRepository(Repository):
    async def get(self, tenant_id: UUID, phone_hash: str) -> DoNotContact | None:
        return await self.session.scalar(
            select(DoNotContact).where(
                DoNotContact.tenant_id == tenant_id, DoNotContact.phone_hash == phone_hash
            )
        )

    async def list_page(
        self, tenant_id: UUID, reason: DncReason | None, params: PageParams
    ) -> Slice[DoNotContact]:
        """Newest first (ids are time-ordered)."""
        stmt = select(DoNotContact).where(DoNotContact.tenant_id == tenant_id)
        if reason is not None:
            stmt = stmt.where(DoNotContact.reason == reason)
        return await self.page(stmt, params, DoNotContact.id, DoNotContact.id, descending=True)

    async def add_many(
        self,
        tenant_id: UUID,
        entries: dict[str, str],
        reason: DncReason,
        note: str | None,
        created_by: str | None,
    ) -> list[str]:
        """Insert ``{hash: phone}``; already listed hashes are left alone. Returns new hashes."""
        hashes = list(entries)
        rows = (
            func.unnest(
                bindparam("ids", [new_id() for _ in hashes], type_=ARRAY(DoNotContact.id.type)),
                bindparam("phones", [entries[h] for h in hashes], type_=ARRAY(Text)),
                bindparam("hashes", hashes, type_=ARRAY(Text)),
            )
            .table_valued("id", "phone", "hash")
            .render_derived()
        )
        source = select(
            rows.c.id,
            bindparam("tenant", tenant_id, type_=DoNotContact.tenant_id.type),
            rows.c.phone,
            rows.c.hash,
            bindparam("reason", reason.value, type_=Text),
            bindparam("note", note, type_=Text),
            bindparam("created_by", created_by, type_=Text),
        )
        stmt = (
            insert(DoNotContact)
            .from_select(
                ["id", "tenant_id", "phone_e164", "phone_hash", "reason", "note", "created_by"],
                source,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "phone_hash"])
            .returning(DoNotContact.phone_hash)
        )
        return list((await self.session.scalars(stmt)).all())

    async def remove_many(self, tenant_id: UUID, hashes: list[str]) -> list[str]:
        """Delete the listed hashes except ``erased`` entries. Returns the removed hashes."""
        stmt = (
            delete(DoNotContact)
            .where(
                DoNotContact.tenant_id == tenant_id,
                DoNotContact.phone_hash.in_(hashes),
                DoNotContact.reason != DncReason.erased,
            )
            .returning(DoNotContact.phone_hash)
        )
        return list((await self.session.scalars(stmt)).all())

    async def erased_among(self, tenant_id: UUID, hashes: list[str]) -> set[str]:
        stmt = select(DoNotContact.phone_hash).where(
            DoNotContact.tenant_id == tenant_id,
            DoNotContact.phone_hash.in_(hashes),
            DoNotContact.reason == DncReason.erased,
        )
        return set((await self.session.scalars(stmt)).all())

    async def mark_erased(self, tenant_id: UUID, phone_hash: str, created_by: str | None) -> None:
        """List the hash as ``erased`` without the number (replacing any earlier entry)."""
        stmt = insert(DoNotContact).values(
            id=new_id(),
            tenant_id=tenant_id,
            phone_e164=None,
            phone_hash=phone_hash,
            reason=DncReason.erased,
            note=None,
            created_by=created_by,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "phone_hash"],
            set_={"reason": DncReason.erased.value, "phone_e164": None, "note": None},
        )
        await self.session.execute(stmt)


class SuppressionRuleRepository(Repository):
    async def get(self, tenant_id: UUID, rule_id: UUID) -> SuppressionRule | None:
        return await self.session.scalar(
            select(SuppressionRule).where(
                SuppressionRule.tenant_id == tenant_id, SuppressionRule.id == rule_id
            )
        )

    async def list_page(self, tenant_id: UUID, params: PageParams) -> Slice[SuppressionRule]:
        """Oldest first."""
        stmt = select(SuppressionRule).where(SuppressionRule.tenant_id == tenant_id)
        return await self.page(stmt, params, SuppressionRule.id, SuppressionRule.id)

    def add(self, rule: SuppressionRule) -> None:
        self.session.add(rule)

    async def delete(self, rule: SuppressionRule) -> None:
        await self.session.delete(rule)
