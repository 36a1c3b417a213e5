"""API keys: issue, authenticate, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.models import ApiKey
from herald.auth.repository import ApiKeyRepository, KeyCredential
from herald.kit.context import Role
from herald.kit.errors import Forbidden, NotFound, Unauthorized
from herald.kit.pagination import PageParams, Slice
from herald.kit.tokens import digest, random_token, same_digest
from herald.tenant.models import TenantStatus

KEY_PREFIX = "hk_"
LAST_USED_GRANULARITY = timedelta(minutes=1)
"""last_used_at is written at most once a minute per key, not on every call."""


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str
    """The full key, shown once and never stored."""


def _split(raw: str) -> tuple[str, str]:
    """``hk_<prefix>_<secret>`` → (prefix, whole key)."""
    if not raw.startswith(KEY_PREFIX):
        raise Unauthorized("The API key is malformed: Herald keys start with 'hk_'.")
    prefix, sep, _secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or not prefix:
        raise Unauthorized("The API key is malformed; copy it again from where it was created.")
    return prefix, raw


async def issue_api_key(
    session: AsyncSession,
    tenant_id: UUID,
    name: str,
    role: Role = Role.admin,
    *,
    created_by: UUID | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    prefix = random_token(6).replace("_", "x").replace("-", "y")
    secret = f"{KEY_PREFIX}{prefix}_{random_token(32)}"
    key = ApiKey(
        tenant_id=tenant_id,
        name=name,
        prefix=prefix,
        key_hash=digest(secret),
        role=role,
        created_by=created_by,
        expires_at=expires_at,
    )
    ApiKeyRepository(session).add(key)
    await session.flush()
    return IssuedKey(key=key, secret=secret)


async def authenticate_api_key(session: AsyncSession, raw: str) -> KeyCredential:
    """The live key matching ``raw``, with the transaction scoped to its tenant; 401 when
    unknown, revoked or expired, 403 when its tenant is suspended."""
    prefix, whole = _split(raw)
    repo = ApiKeyRepository(session)
    key = await repo.credential(prefix)
    if key is None or not same_digest(whole, key.key_hash):
        raise Unauthorized("The API key is not valid.")
    now = datetime.now(UTC)
    if key.revoked_at is not None:
        raise Unauthorized("The API key was revoked; create a new one.")
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized("The API key has expired; create a new one.")
    ensure_tenant_active(key.tenant_status)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_GRANULARITY:
        await repo.touch(key.id, now)
    return key


def ensure_tenant_active(status: TenantStatus) -> None:
    """A suspended tenant's keys and sign-ins still exist but open nothing until it is
    resumed (``herald tenant resume``)."""
    if status is not TenantStatus.active:
        raise Forbidden(
            "This tenant is suspended: nothing can be read or changed until the operator of "
            "this Herald resumes it."
        )


def ensure_may_manage(caller: Role, key_role: Role, verb: str) -> None:
    """A key is created, changed or revoked only by a caller at least as powerful as the key:
    otherwise an admin could take an owner's key away (or mint one)."""
    if not caller.at_least(key_role):
        raise Forbidden(
            f"You cannot {verb} a key with more power ({key_role}) than your own ({caller}); "
            f"ask someone with the {key_role} role."
        )


async def revoke_api_key(
    session: AsyncSession, tenant_id: UUID, key_id: UUID, *, by: Role
) -> ApiKey:
    """Revoke a key of the tenant on behalf of a caller of role ``by``; revoking twice keeps
    the first time."""
    key = await ApiKeyRepository(session).get(tenant_id, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id} in this tenant.")
    ensure_may_manage(by, key.role, "revoke")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
    return key


async def revoke_keys_above(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, role: Role | None
) -> None:
    """A member's API keys must not outlast their power: on removal (``role`` None) every key
    they created is revoked; on demotion, those whose role is above the new one."""
    now = datetime.now(UTC)
    for key in await ApiKeyRepository(session).live_keys_created_by(tenant_id, user_id):
        if role is None or not role.at_least(key.role):
            key.revoked_at = now


async def list_api_keys(
    session: AsyncSession, tenant_id: UUID, params: PageParams
) -> Slice[ApiKey]:
    return await ApiKeyRepository(session).list(tenant_id, params)
