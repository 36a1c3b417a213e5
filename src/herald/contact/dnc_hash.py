"""The do-not-contact hash, computed identically in Python and in SQL."""

from __future__ import annotations

import hashlib
from uuid import UUID

PHONE_HASH_SQL = "encode(sha256(CAST(CAST(tenant_id AS text) || phone_e164 AS bytea)), 'hex')"
"""The same hash over a ``contacts`` row: the generated column ``contacts.phone_hash``
(migration 0026). A UUID's text and an E.164 number are ASCII, so their bytes are those
Python hashes whatever the server's encoding."""


def phone_hash(tenant_id: UUID, phone_e164: str) -> str:
    """Per-tenant salted SHA-256. Pseudonymous, not anonymous: the number space is small."""
    return hashlib.sha256(f"{tenant_id}{phone_e164}".encode()).hexdigest()
