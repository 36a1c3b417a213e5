"""Link tokens: a random part and a MAC of it, so a forged token is refused before any lookup.

A token is 9 random bytes (72 bits: unguessable, and unique in practice at any volume) followed
by the first 6 bytes (48 bits) of HMAC-SHA256 over them, the 15 bytes written as 21 base62
characters. Checking the MAC needs only the key, so scanners and typos cost no database query;
the token as a whole is the lookup key.

The key is derived from the instance's secret key (``herald.auth.access.signing_key``: the
``HERALD_SECRET_KEY`` setting, or the key file generated once in the data dir), which is stable
across processes and restarts — unlike the encryption keyring, which rotates.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from herald.auth.access import signing_key
from herald.settings import Settings

RANDOM_BYTES = 9
MAC_BYTES = 6
TOKEN_LENGTH = 21
"""base62 digits of 15 bytes: 62**21 > 2**120 > 62**20."""
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGITS = {char: value for value, char in enumerate(ALPHABET)}
_LIMIT = 1 << (8 * (RANDOM_BYTES + MAC_BYTES))
_CONTEXT = b"herald/short-link-token/v1"


@cache
def _derive(secret: str) -> bytes:
    """A key of its own for links (domain separation from the JWT use of the same secret)."""
    return hmac.new(secret.encode(), _CONTEXT, hashlib.sha256).digest()


def token_key(settings: Settings) -> bytes:
    """The process's link key, derived once per secret."""
    return _derive(signing_key(settings))


def _mac(key: bytes, random_part: bytes) -> bytes:
    return hmac.new(key, random_part, hashlib.sha256).digest()[:MAC_BYTES]


def _encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    for _ in range(TOKEN_LENGTH):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _decode(token: str) -> bytes | None:
    if len(token) != TOKEN_LENGTH:
        return None
    number = 0
    for char in token:
        digit = _DIGITS.get(char)
        if digit is None:
            return None
        number = number * 62 + digit
    if number >= _LIMIT:
        return None
    return number.to_bytes(RANDOM_BYTES + MAC_BYTES, "big")


def new_token(key: bytes) -> str:
    random_part = secrets.token_bytes(RANDOM_BYTES)
    return _encode(random_part + _mac(key, random_part))


def is_genuine(key: bytes, token: str) -> bool:
    """Whether ``token`` was minted with ``key`` (constant-time MAC comparison)."""
    data = _decode(token)
    if data is None:
        return False
    random_part, mac = data[:RANDOM_BYTES], data[RANDOM_BYTES:]
    return hmac.compare_digest(mac, _mac(key, random_part))
