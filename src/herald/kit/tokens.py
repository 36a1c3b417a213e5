"""Random secrets and their digests, shared by API keys and one-time tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_digest(token: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(token), expected_digest)
