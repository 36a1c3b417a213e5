"""Password hashing with argon2id."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from herald.kit.errors import Unprocessable

MIN_LENGTH = 10
hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of a new password, which must be long enough (422 otherwise)."""
    if len(password) < MIN_LENGTH:
        raise Unprocessable(
            f"The password must be at least {MIN_LENGTH} characters long; choose a longer one."
        )
    return hasher.hash(password)


@cache
def _decoy_hash() -> str:
    return hasher.hash("decoy password that matches nothing")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches. Without a hash (unknown email, passwordless account) a decoy
    is verified instead, so the answer takes as long as for a real account."""
    try:
        return hasher.verify(password_hash or _decoy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def upgraded_hash(password_hash: str | None, password: str) -> str | None:
    """A fresh hash of a just-verified password when the stored one uses weaker parameters than
    the current ones; None when it needs no upgrade."""
    if password_hash is None or not hasher.check_needs_rehash(password_hash):
        return None
    return hasher.hash(password)
