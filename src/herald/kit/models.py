"""Declarative base and the column mixins every table shares."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, MetaData, func
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from herald.kit.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}
    __personal_data__: ClassVar[frozenset[str]] = frozenset()
    """Columns holding a person's data: named in the audit log, never copied into it."""
    __audited__: ClassVar[frozenset[str] | Literal[False] | None] = None
    """What the audit log records of a tenant-owned table: the columns an entry's changes
    name (personal ones as ``PERSONAL``, secret ones redacted); ``False`` for a table that is
    its own log or holds copies of files and rows (messages, import parts). Undeclared
    (``None``), creations and deletions are logged without values, and
    ``tests/audit/test_declared.py`` fails until the table says which: nothing reaches the log
    because it happened to be flushed."""
    __audit_masks__: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    """Column → what the audit log keeps of a structured value that may hold personal data
    (segment rules keep their fields and operators, not the values they compare)."""


PERSONAL = "[personal data]"
"""What the audit log (and masks) write instead of a person's data."""


def str_enum(enum: type[StrEnum], length: int = 20) -> SAEnum:
    """A ``StrEnum`` stored as VARCHAR (no PostgreSQL enum type: new values need no migration)."""
    return SAEnum(
        enum, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class IdMixin:
    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    """Set in Python as well as by the server, so that a flushed object never needs a refresh."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=func.now(), onupdate=utcnow
    )


class TenantScopedMixin:
    """A row owned by one tenant. Such tables also get a row-level security policy
    (see ``herald.kit.rls``), so a query that forgets its filter still sees one tenant."""

    @declared_attr
    def tenant_id(cls) -> Mapped[UUID]:
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
