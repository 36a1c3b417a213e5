"""Every tenant-owned table declares what the audit log records of it (``__audited__``), and
the flush listener records those columns and no others."""

from __future__ import annotations

from typing import Any

from herald.kit.models import Base
from herald.models import AuditEntry


def owned_models() -> list[type[Any]]:
    """Mapped classes whose rows belong to a tenant (the audit listener's candidates)."""
    found = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        owner = getattr(cls, "__owner_column__", "tenant_id")
        if owner in mapper.columns and cls is not AuditEntry:
            found.append(cls)
    return found


def test_every_tenant_table_declares_its_audited_columns() -> None:
    undeclared = sorted(c.__name__ for c in owned_models() if c.__audited__ is None)
    assert undeclared == [], (
        "Declare __audited__ on these models: the columns the audit log records, "
        "or False for a table that is its own log"
    )


def test_declared_columns_exist() -> None:
    for cls in owned_models():
        declared = cls.__audited__ or frozenset()
        columns = set(cls.__mapper__.columns.keys())
        assert declared <= columns, (cls.__name__, declared - columns)
        assert set(cls.__personal_data__) <= columns, cls.__name__
        assert set(cls.__audit_masks__) <= declared, cls.__name__


def test_there_is_something_to_check() -> None:
    assert len(owned_models()) >= 20
