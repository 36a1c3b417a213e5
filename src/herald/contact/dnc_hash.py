"""The do-not-contact hash, computed identically in Python and in SQL."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from sqlalchemy import func


def phone_hash(tenant_id: UUID, phone_e164: str) -> str:
    """Per-tenant salted SHA-256. Pseudonymous, not anonymous: the number space is small."""
    return hashlib.sha256(f"{tenant_id}{phone_e164}".encode()).hexdigest()


def phone_hash_sql(tenant_id: Any, phone_e164: Any) -> Any:
    """The same hash as a SQL expression, for set-based checks (audiences, imports)."""
    return func.encode(
        func.sha256(func.convert_to(func.concat(tenant_id, phone_e164), "UTF8")), "hex"
    )
