"""Short-lived access tokens: HS256 JWTs signed with the instance's secret key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from uuid import UUID

import jwt

from herald.kit.context import Role
from herald.kit.errors import Unauthorized
from herald.kit.files import create_once
from herald.kit.tokens import random_token
from herald.settings import Settings

ALGORITHM = "HS256"
ACCESS = "access"


def signing_key(settings: Settings) -> str:
    """``settings.secret_key``; unset, a random key generated once into ``<data_dir>/secret_key``
    (readable by the owner only), so tokens survive restarts without configuration."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return _key_file(settings.data_dir.resolve() / "secret_key")


@cache
def _key_file(path: Path) -> str:
    return create_once(path, random_token(48).encode()).decode().strip()


@dataclass(frozen=True)
class AccessClaims:
    user_id: UUID
    tenant_id: UUID
    role: Role
    jti: str


def issue_access_token(settings: Settings, user_id: UUID, tenant_id: UUID, role: Role) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "tid": str(tenant_id),
        "role": role.value,
        "iat": now,
        "exp": now + timedelta(minutes=settings.access_token_minutes),
        "jti": random_token(12),
        "typ": ACCESS,
    }
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """The verified claims; 401 saying why when the token is expired, forged or not an access
    token."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "tid", "role", "exp", "iat", "jti", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The access token has expired; refresh it or sign in again.") from exc
    except jwt.InvalidSignatureError as exc:
        raise Unauthorized("The access token's signature is not valid; sign in again.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(
            "The bearer token is neither a Herald API key (hk_…) nor a valid access token."
        ) from exc
    if claims["typ"] != ACCESS:
        raise Unauthorized("This token is not an access token; send the access_token.")
    try:
        return AccessClaims(
            user_id=UUID(claims["sub"]),
            tenant_id=UUID(claims["tid"]),
            role=Role(claims["role"]),
            jti=claims["jti"],
        )
    except ValueError as exc:
        raise Unauthorized("The access token's claims are malformed; sign in again.") from exc
