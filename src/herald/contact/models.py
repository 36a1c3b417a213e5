"""Contacts, their consent per channel (with its proof), the do-not-contact list and
suppression rules."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import Computed, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from herald.contact.dnc_hash import PHONE_HASH_SQL
from herald.contact.fields import MAX_LENGTHS
from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum, utcnow


class ChannelKind(StrEnum):
    sms = "sms"
    whatsapp = "whatsapp"


class ConsentStatus(StrEnum):
    opted_in = "opted_in"
    """Express consent (a form, a keyword, a checkbox that was not pre-ticked)."""
    implied = "implied"
    """Inferred consent (an existing customer relationship, UK soft opt-in)."""
    unknown = "unknown"
    opted_out = "opted_out"


class ConsentMethod(StrEnum):
    """How a consent change was captured: part of the proof GDPR art. 7 and the TCPA ask for."""

    api = "api"
    import_ = "import"
    keyword = "keyword"
    form = "form"
    integration = "integration"
    admin = "admin"
    erasure = "erasure"


class Gender(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class DncReason(StrEnum):
    stop = "stop"
    complaint = "complaint"
    manual = "manual"
    erased = "erased"


class Contact(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    __tablename__ = "contacts"
    __personal_data__ = frozenset(
        {
            "phone_e164",
            "email",
            "first_name",
            "last_name",
            "gender",
            "birth_date",
            "timezone",
            "language",
            "company",
            "tags",
            "custom_fields",
            "blocked_reason",
        }
    )
    """Named in the audit log but never copied there, and cleared when the person is erased."""
    __audited__ = frozenset(
        {
            *__personal_data__,
            "source",
            "sms_status",
            "whatsapp_status",
            "blocked",
            "import_batch_id",
            "erased_at",
        }
    )
    """The personal columns by name only. Left out: the consent sources (free text, kept with
    the proof in ``consent_events``) and the counters the send path keeps."""
    __table_args__ = (
        UniqueConstraint("tenant_id", "phone_e164"),
        Index(
            "uq_contacts_tenant_id_email",
            "tenant_id",
            text("lower(email)"),
            unique=True,
            postgresql_where=text("email IS NOT NULL"),
        ),
        Index("ix_contacts_tenant_id_created_at", "tenant_id", "created_at"),
        Index("ix_contacts_tenant_id_birth_date", "tenant_id", "birth_date"),
        Index("ix_contacts_tenant_id_whatsapp_status", "tenant_id", "whatsapp_status"),
        Index("ix_contacts_tags", "tags", postgresql_using="gin"),
        # No phone prefix index: LIKE is not leakproof, so the app role could not use it (0009).
    )

    tenant_id: Mapped[UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    """Not indexed alone: every index of this table starts with it (see 0008)."""
    phone_e164: Mapped[str | None] = mapped_column(String(16))
    """E.164; NULL only once the contact is erased."""
    phone_hash: Mapped[str | None] = mapped_column(
        String(64), Computed(PHONE_HASH_SQL, persisted=True)
    )
    """The do-not-contact hash of the number, kept by PostgreSQL (migration 0026): audiences
    match the list by it instead of hashing every contact's number on each read."""
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["first_name"]))
    last_name: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["last_name"]))
    gender: Mapped[Gender | None] = mapped_column(str_enum(Gender))
    birth_date: Mapped[date | None]
    timezone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["language"]))
    company: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["company"]))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    source: Mapped[str | None] = mapped_column(String(100))
    """Where the contact came from: api, import, shopify, form, inbound…"""

    sms_status: Mapped[ConsentStatus] = mapped_column(
        str_enum(ConsentStatus), default=ConsentStatus.unknown, server_default="unknown"
    )
    sms_source: Mapped[str | None] = mapped_column(String(200))
    sms_changed_at: Mapped[datetime | None]
    whatsapp_status: Mapped[ConsentStatus] = mapped_column(
        str_enum(ConsentStatus), default=ConsentStatus.unknown, server_default="unknown"
    )
    whatsapp_source: Mapped[str | None] = mapped_column(String(200))
    whatsapp_changed_at: Mapped[datetime | None]

    blocked: Mapped[bool] = mapped_column(default=False, server_default="false")
    blocked_reason: Mapped[str | None] = mapped_column(String(500))
    last_message_at: Mapped[datetime | None]
    """Last message either way (inbox ordering)."""
    last_sent_at: Mapped[datetime | None]
    """Last outbound message (suppression windows)."""
    unread_count: Mapped[int] = mapped_column(default=0, server_default="0")
    import_batch_id: Mapped[UUID | None]
    """The import that created the contact: a pointer without a foreign key, which would cost
    every imported row a check (batches are only deleted with their tenant; see 0010)."""
    erased_at: Mapped[datetime | None]


class ConsentEvent(IdMixin, TenantScopedMixin, Base):
    """Append-only proof of every consent change: who, when, how, with what wording."""

    __tablename__ = "consent_events"
    __audited__ = False
    """The consent proof is its own append-only log (and an erasure replaces it)."""
    __personal_data__ = frozenset({"ip", "actor"})
    __table_args__ = (
        Index("ix_consent_events_contact_id_occurred_at", "contact_id", "occurred_at"),
    )

    contact_id: Mapped[UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))
    status: Mapped[ConsentStatus] = mapped_column(str_enum(ConsentStatus))
    previous_status: Mapped[ConsentStatus | None] = mapped_column(str_enum(ConsentStatus))
    method: Mapped[ConsentMethod] = mapped_column(str_enum(ConsentMethod))
    source: Mapped[str | None] = mapped_column(String(200))
    wording: Mapped[str | None] = mapped_column(Text)
    """The text the person agreed to, as shown (or its version id)."""
    actor: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class DoNotContact(IdMixin, TenantScopedMixin, Base):
    """A number nobody in the tenant may message. Matched by ``phone_hash`` so that an erased
    person's entry keeps working after the number itself is gone."""

    __tablename__ = "do_not_contact"
    __audited__ = frozenset({"phone_e164", "reason", "note", "created_by"})
    __personal_data__ = frozenset({"phone_e164"})
    __table_args__ = (UniqueConstraint("tenant_id", "phone_hash"),)

    phone_e164: Mapped[str | None] = mapped_column(String(16))
    phone_hash: Mapped[str] = mapped_column(String(64))
    """Hex SHA-256 of ``tenant_id || phone_e164`` (see ``herald.contact.dnc_hash``)."""
    reason: Mapped[DncReason] = mapped_column(str_enum(DncReason))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class SuppressionRule(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    """ "No marketing to a contact messaged in the last ``window_days`` days"."""

    __tablename__ = "suppression_rules"
    __audited__ = frozenset({"name", "window_days", "channel", "is_active", "expires_at"})
    __table_args__ = (
        Index("ix_suppression_rules_active", "tenant_id", postgresql_where=text("is_active")),
    )

    name: Mapped[str] = mapped_column(String(200))
    window_days: Mapped[int] = mapped_column(default=90, server_default="90")
    channel: Mapped[ChannelKind | None] = mapped_column(str_enum(ChannelKind))
    """NULL: every channel."""
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    expires_at: Mapped[datetime | None]
