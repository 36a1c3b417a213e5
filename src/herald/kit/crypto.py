"""Secrets at rest: AES-256-GCM under a keyring of named keys.

A ciphertext is the text token ``v1:<kid>:<b64 nonce>:<b64 ciphertext+tag>``. The key id is
also bound as associated data, so a token whose kid was edited to point at another key fails
authentication instead of decrypting garbage. The first key of the ring encrypts; every key
decrypts, which lets ``herald keys rotate`` re-encrypt rows while old tokens keep working.

Keys come from ``settings.encryption_keys`` or, when unset, from ``<data_dir>/keyring.json``
(created on first use with one random key, mode 0600). The process keyring is set once at start
(``configure_keyring``); ``EncryptedString``/``EncryptedJSON`` columns use it.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

from herald.kit.files import create_once, replace_private
from herald.settings import Settings, get_settings

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEYRING_FILE = "keyring.json"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class CryptoError(Exception):
    """A ciphertext cannot be decrypted, or the keyring is misconfigured."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_kid(now: datetime | None = None) -> str:
    """A sortable, readable key id: the creation date plus a random suffix."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"k{stamp}{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Keyring:
    """Named 32-byte keys; ``primary`` (the first) encrypts, all of them decrypt."""

    keys: Mapping[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.keys:
            raise CryptoError("The keyring is empty; it needs at least one key.")
        for kid, key in self.keys.items():
            if not _KID.match(kid):
                raise CryptoError(f"Key id {kid!r} must be 1-32 letters, digits, '_' or '-'.")
            if len(key) != KEY_BYTES:
                raise CryptoError(f"Key {kid!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}.")

    @property
    def primary(self) -> str:
        return next(iter(self.keys))

    @classmethod
    def generate(cls, kid: str | None = None) -> Keyring:
        return cls({kid or new_kid(): AESGCM.generate_key(bit_length=256)})

    def with_new_primary(self, kid: str | None = None) -> Keyring:
        """This ring with a fresh key in front; the old keys stay so old tokens still decrypt."""
        kid = kid or new_kid()
        if kid in self.keys:
            raise CryptoError(f"The keyring already has a key {kid!r}.")
        return Keyring({kid: AESGCM.generate_key(bit_length=256), **self.keys})

    def encrypt(self, plaintext: bytes) -> str:
        kid = self.primary
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[kid]).encrypt(nonce, plaintext, kid.encode())
        return f"{VERSION}:{kid}:{_b64(nonce)}:{_b64(sealed)}"

    def decrypt(self, token: str) -> bytes:
        kid, nonce, sealed = _split_token(token)
        key = self.keys.get(kid)
        if key is None:
            raise CryptoError(
                f"No key {kid!r} in the keyring; restore it (HERALD_ENCRYPTION_KEYS or "
                "keyring.json) before reading this value."
            )
        try:
            return AESGCM(key).decrypt(nonce, sealed, kid.encode())
        except InvalidTag as exc:
            raise CryptoError(
                f"The ciphertext under key {kid!r} failed authentication: it was altered."
            ) from exc


def _split_token(token: str) -> tuple[str, bytes, bytes]:
    parts = token.split(":")
    if len(parts) != 4 or parts[0] != VERSION:
        raise CryptoError(f"Not a {VERSION} ciphertext token ('{VERSION}:<kid>:<nonce>:<data>').")
    try:
        nonce, sealed = _unb64(parts[2]), _unb64(parts[3])
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("The ciphertext token is not valid base64; it was altered.") from exc
    if len(nonce) != NONCE_BYTES:
        raise CryptoError("The ciphertext nonce has the wrong length; it was altered.")
    return parts[1], nonce, sealed


def parse_keys(spec: str) -> Keyring:
    """``"kid:base64key,kid2:base64key"`` (standard or URL-safe base64) → a keyring."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kid, sep, encoded = item.partition(":")
        if not sep:
            raise CryptoError(f"Encryption key {kid!r} must be written 'kid:base64key'.")
        try:
            keys[kid] = base64.b64decode(encoded.replace("-", "+").replace("_", "/") + "==")
        except (binascii.Error, ValueError) as exc:
            raise CryptoError(f"Encryption key {kid!r} is not valid base64.") from exc
    return Keyring(keys)


def keyring_path(settings: Settings) -> Path:
    return settings.data_dir / KEYRING_FILE


def read_keyring_file(path: Path) -> Keyring:
    try:
        data = orjson.loads(path.read_bytes())
        return Keyring({item["kid"]: _unb64(item["key"]) for item in data["keys"]})
    except (OSError, KeyError, TypeError, ValueError, orjson.JSONDecodeError) as exc:
        raise CryptoError(f"The keyring file {path} is unreadable: {exc}") from exc


def _keyring_bytes(keyring: Keyring) -> bytes:
    payload = {"keys": [{"kid": kid, "key": _b64(key)} for kid, key in keyring.keys.items()]}
    return orjson.dumps(payload, option=orjson.OPT_INDENT_2)


def write_keyring_file(path: Path, keyring: Keyring) -> None:
    """Write atomically, readable by the owner only."""
    replace_private(path, _keyring_bytes(keyring))


def load_keyring(settings: Settings) -> Keyring:
    """The configured keys, or the data dir's keyring file (created with one key if missing,
    the same one for every process starting at once)."""
    if settings.encryption_keys:
        return parse_keys(settings.encryption_keys)
    path = keyring_path(settings)
    create_once(path, _keyring_bytes(Keyring.generate()))
    return read_keyring_file(path)


_current: Keyring | None = None


def configure_keyring(keyring: Keyring | None) -> Keyring | None:
    """Set the process keyring; returns the previous one (``None`` means: load from settings)."""
    global _current
    previous, _current = _current, keyring
    return previous


@contextmanager
def use_keyring(keyring: Keyring) -> Iterator[Keyring]:
    """Run a block under ``keyring``, then restore the process keyring."""
    previous = configure_keyring(keyring)
    try:
        yield keyring
    finally:
        configure_keyring(previous)


def current_keyring() -> Keyring:
    """The process keyring, loaded from the settings on first use if nobody configured one."""
    global _current
    if _current is None:
        _current = load_keyring(get_settings())
    return _current


class EncryptedString(TypeDecorator[str]):
    """A string stored as an AES-GCM token; the database never sees the plaintext."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else current_keyring().encrypt(value.encode())

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else current_keyring().decrypt(value).decode()


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored as an AES-GCM token (credentials with several fields)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else current_keyring().encrypt(orjson.dumps(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else orjson.loads(current_keyring().decrypt(value))
