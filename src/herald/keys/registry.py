"""Every encrypted column, listed explicitly: rotation re-encrypts exactly these.

A new ``EncryptedString``/``EncryptedJSON`` column must be added here, or its values stay under
the old key after ``herald keys rotate`` (and break once that key is retired).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Table

from herald.kit.models import Base
from herald.secret.models import TenantSecret


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[Base]
    attribute: str

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[return-value]

    @property
    def column(self) -> Column[str]:
        return self.table.c[self.attribute]

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.attribute}"


ENCRYPTED_COLUMNS: list[EncryptedColumn] = [
    EncryptedColumn(TenantSecret, "value"),
]
