from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CursorResult, Delete, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.models import ApiKey, MagicLinkToken, RefreshToken
from herald.kit.context import Role
from herald.kit.database import scope_columns
from herald.kit.pagination import PageParams, Slice
from herald.kit.ratelimit import WINDOW, purge_windows
from herald.kit.repository import Repository
from herald.tenant.models import Tenant, TenantStatus
from herald.user.models import Invitation


@dataclass(frozen=True)
class KeyCredential:
    """What authenticating an API key needs to know, read without loading the ORM entity."""

    id: UUID
    tenant_id: UUID
    role: Role
    key_hash: str
    revoked_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None
    tenant_status: TenantStatus


_CREDENTIAL = (
    select(
        ApiKey.id,
        ApiKey.tenant_id,
        ApiKey.role,
        ApiKey.key_hash,
        ApiKey.revoked_at,
        ApiKey.expires_at,
        ApiKey.last_used_at,
        Tenant.status,
        *scope_columns(ApiKey.tenant_id),
    )
    .join(Tenant, Tenant.id == ApiKey.tenant_id)
    .where(ApiKey.prefix == bindparam("prefix"))
)
"""Built once: constructing a statement costs more CPU than running this one."""


class ApiKeyRepository(Repository):
    async def credential(self, prefix: str) -> KeyCredential | None:
        """The key and its tenant's status; selecting the row also scopes the transaction to
        the key's tenant. One round trip: it runs on every request. A caller that then finds
        the key unusable raises, and the rollback undoes the scope."""
        row = (await self.session.execute(_CREDENTIAL, {"prefix": prefix})).first()
        return None if row is None else KeyCredential(*row[:8])

    async def get(self, tenant_id: UUID, key_id: UUID) -> ApiKey | None:
        return await self.session.scalar(
            select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
        )

    async def list(self, tenant_id: UUID, params: PageParams) -> Slice[ApiKey]:
        stmt = select(ApiKey).where(ApiKey.tenant_id == tenant_id)
        return await self.page(stmt, params, ApiKey.id, ApiKey.id)

    def add(self, key: ApiKey) -> None:
        self.session.add(key)

    async def live_keys_created_by(self, tenant_id: UUID, user_id: UUID) -> Sequence[ApiKey]:
        stmt = select(ApiKey).where(
            ApiKey.tenant_id == tenant_id,
            ApiKey.created_by == user_id,
            ApiKey.revoked_at.is_(None),
        )
        return (await self.session.scalars(stmt)).all()

    async def touch(self, key_id: UUID, now: datetime) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
        )


class RefreshTokenRepository(Repository):
    def add(self, token: RefreshToken) -> None:
        self.session.add(token)

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        return await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )

    async def claim(self, token_id: UUID, now: datetime) -> bool:
        """Mark the token used unless it already was; only one of two racing refreshes wins."""
        claimed = await self.session.scalar(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
            .returning(RefreshToken.id)
        )
        return claimed is not None

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_user(self, user_id: UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class MagicLinkRepository(Repository):
    def add(self, token: MagicLinkToken) -> None:
        self.session.add(token)

    async def redeem(self, token_hash: str, now: datetime) -> MagicLinkToken | None:
        """Mark a live token used and return it; None when unknown, used or expired."""
        return await self.session.scalar(
            update(MagicLinkToken)
            .where(
                MagicLinkToken.token_hash == token_hash,
                MagicLinkToken.used_at.is_(None),
                MagicLinkToken.expires_at > now,
            )
            .values(used_at=now)
            .returning(MagicLinkToken)
        )


REVOKED_GRACE = timedelta(days=1)
"""Revoked refresh tokens are kept a day for inspection. Used ones are kept until they expire:
a replay of one must still be recognised as reuse, and revoke its family."""


async def purge_expired(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Delete sign-in material nobody can use any more; return the count per kind."""
    statements: dict[str, Delete] = {
        "refresh_tokens": delete(RefreshToken).where(
            or_(RefreshToken.expires_at < now, RefreshToken.revoked_at < now - REVOKED_GRACE)
        ),
        "magic_link_tokens": delete(MagicLinkToken).where(
            or_(MagicLinkToken.expires_at < now, MagicLinkToken.used_at.is_not(None))
        ),
        "invitations": delete(Invitation).where(
            or_(Invitation.expires_at < now, Invitation.accepted_at.is_not(None))
        ),
    }
    counts = {}
    for kind, stmt in statements.items():
        result = cast(CursorResult[Any], await session.execute(stmt))
        counts[kind] = int(result.rowcount)
    counts["rate_limit_hits"] = await purge_windows(session, now - WINDOW)
    return counts
