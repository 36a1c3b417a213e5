"""Key rotation: a new primary key, then every registered column re-encrypted under it.

Batches are read and written with the owner session (rotation spans all tenants), one
transaction per batch so a long rotation holds no long locks and can be resumed: rows already
under the primary key are skipped. A value that cannot be decrypted is reported, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from herald.keys import repository
from herald.keys.registry import ENCRYPTED_COLUMNS, EncryptedColumn
from herald.kit.crypto import (
    CryptoError,
    Keyring,
    keyring_path,
    load_keyring,
    write_keyring_file,
)
from herald.kit.database import Database
from herald.settings import Settings

BATCH_SIZE = 500
FAILED_IDS_SHOWN = 20


@dataclass
class ColumnReport:
    column: str
    reencrypted: int = 0
    changed_meanwhile: int = 0
    """Rows rewritten by the application between our read and our write (left as they are)."""
    failed: int = 0
    failed_ids: list[str] = field(default_factory=list)


@dataclass
class RotationReport:
    primary: str
    added: str | None
    columns: list[ColumnReport]

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.columns)


class KeysFromEnvironment(Exception):
    """The keys are in HERALD_ENCRYPTION_KEYS, which this process cannot edit."""


def add_primary_key(settings: Settings) -> tuple[Keyring, str]:
    """Put a new key in front of the keyring file; the old keys stay for decryption."""
    if settings.encryption_keys:
        raise KeysFromEnvironment(
            "Keys come from HERALD_ENCRYPTION_KEYS. Put a new 'kid:base64key' in front of it "
            "(generate 32 bytes: `openssl rand -base64 32`), keep the old keys after it, restart, "
            "then run `herald keys rotate --resume` to re-encrypt under the new key."
        )
    keyring = load_keyring(settings).with_new_primary()
    write_keyring_file(keyring_path(settings), keyring)
    return keyring, keyring.primary


def _reseal(keyring: Keyring, token: str) -> str:
    return keyring.encrypt(keyring.decrypt(token))


async def _reencrypt_column(
    db: Database, keyring: Keyring, target: EncryptedColumn, batch_size: int
) -> ColumnReport:
    report = ColumnReport(column=target.label)
    after: UUID | None = None
    while True:
        async with db.system_session() as session:
            batch = await repository.stale_batch(
                session, target, keyring.primary, after, batch_size
            )
            if not batch:
                return report
            after = batch[-1][0]
            rows: list[tuple[UUID, str, str]] = []
            for row_id, token in batch:
                try:
                    rows.append((row_id, token, _reseal(keyring, token)))
                except CryptoError:
                    report.failed += 1
                    if len(report.failed_ids) < FAILED_IDS_SHOWN:
                        report.failed_ids.append(str(row_id))
            replaced = await repository.replace_tokens(session, target, rows) if rows else 0
        report.reencrypted += replaced
        report.changed_meanwhile += len(rows) - replaced


async def reencrypt_all(
    db: Database, keyring: Keyring, *, added: str | None = None, batch_size: int = BATCH_SIZE
) -> RotationReport:
    """Bring every registered column under ``keyring.primary``."""
    columns = [
        await _reencrypt_column(db, keyring, target, batch_size) for target in ENCRYPTED_COLUMNS
    ]
    return RotationReport(primary=keyring.primary, added=added, columns=columns)


async def usage_by_kid(db: Database) -> dict[str, int]:
    """How many stored values each key id encrypts (a key at zero can be retired)."""
    totals: dict[str, int] = {}
    async with db.system_session() as session:
        for target in ENCRYPTED_COLUMNS:
            for kid, count in (await repository.count_by_kid(session, target)).items():
                totals[kid] = totals.get(kid, 0) + count
    return totals
