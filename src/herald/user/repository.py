from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Select, bindparam, delete, select, update

from herald.kit.context import Role
from herald.kit.database import scope_columns
from herald.kit.pagination import PageParams, Slice, keyset
from herald.kit.repository import Repository
from herald.tenant.models import Tenant, TenantStatus
from herald.user.models import Invitation, Membership, User


def _membership_query(*extra: ColumnElement[Any]) -> Select[Any]:
    return (
        select(Membership, Tenant.status, *extra)
        .join(User, User.id == Membership.user_id)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(
            Membership.tenant_id == bindparam("tenant_id"),
            Membership.user_id == bindparam("user_id"),
            User.is_active.is_(True),
        )
    )


_MEMBERSHIP = _membership_query()
_SCOPED_MEMBERSHIP = _membership_query(*scope_columns(Membership.tenant_id))
"""Built once: asked on every request made with an access token."""


class UserRepository(Repository):
    async def by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def get(self, user_id: UUID) -> User | None:
        return await self.session.scalar(select(User).where(User.id == user_id))

    def add(self, obj: User | Membership) -> None:
        self.session.add(obj)

    async def membership(self, tenant_id: UUID, user_id: UUID) -> Membership | None:
        return await self.session.scalar(
            select(Membership).where(
                Membership.tenant_id == tenant_id, Membership.user_id == user_id
            )
        )

    async def active_membership(
        self, tenant_id: UUID, user_id: UUID, *, scope: bool = False
    ) -> tuple[Membership, TenantStatus] | None:
        """The membership, if the user is still a member and the account is enabled, with the
        tenant's status (in the same query: it is asked on every request). With ``scope`` the
        same statement scopes the transaction to the tenant (see ``scope_columns``)."""
        stmt = _SCOPED_MEMBERSHIP if scope else _MEMBERSHIP
        params = {"tenant_id": tenant_id, "user_id": user_id}
        row = (await self.session.execute(stmt, params)).first()
        return None if row is None else (row[0], row[1])

    async def memberships_of(self, user_id: UUID) -> list[tuple[Membership, Tenant]]:
        """The user's memberships with their tenants, oldest first."""
        stmt = (
            select(Membership, Tenant)
            .join(Tenant, Tenant.id == Membership.tenant_id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at, Membership.id)
        )
        return [(m, t) for m, t in await self.session.execute(stmt)]

    async def count_failure(self, user_id: UUID) -> int:
        """Add one failed sign-in atomically; return the new count."""
        count = await self.session.scalar(
            update(User)
            .where(User.id == user_id)
            .values(failed_login_attempts=User.failed_login_attempts + 1)
            .returning(User.failed_login_attempts)
        )
        return int(count or 0)

    async def lock(self, user_id: UUID, until: datetime) -> None:
        """Lock the account until ``until``; the failure count starts again from zero."""
        await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(locked_until=until, failed_login_attempts=0)
        )

    async def members(self, tenant_id: UUID, params: PageParams) -> list[tuple[Membership, User]]:
        """A page of the tenant's memberships with their users, in membership id order."""
        stmt = select(Membership, User).join(User, User.id == Membership.user_id)
        stmt = stmt.where(Membership.tenant_id == tenant_id)
        page = keyset(cast(Select[Any], stmt), params, Membership.id, Membership.id)
        return [(m, u) for m, u in await self.session.execute(page)]

    async def lock_owners(self, tenant_id: UUID) -> list[UUID]:
        """The tenant's owners, row-locked so two demotions cannot leave it without one."""
        stmt = (
            select(Membership.user_id)
            .where(Membership.tenant_id == tenant_id, Membership.role == Role.owner)
            .with_for_update()
        )
        return list(await self.session.scalars(stmt))

    async def remove(self, membership: Membership) -> None:
        await self.session.delete(membership)


class InvitationRepository(Repository):
    def add(self, invitation: Invitation) -> None:
        self.session.add(invitation)

    async def get(self, tenant_id: UUID, invitation_id: UUID) -> Invitation | None:
        return await self.session.scalar(
            select(Invitation).where(
                Invitation.tenant_id == tenant_id, Invitation.id == invitation_id
            )
        )

    async def pending(self, tenant_id: UUID, params: PageParams) -> Slice[Invitation]:
        stmt = select(Invitation).where(
            Invitation.tenant_id == tenant_id, Invitation.accepted_at.is_(None)
        )
        return await self.page(stmt, params, Invitation.id, Invitation.id)

    async def withdraw_pending(self, tenant_id: UUID, email: str) -> None:
        """Delete the unaccepted invitations of ``email``: a new one replaces them."""
        await self.session.execute(
            delete(Invitation).where(
                Invitation.tenant_id == tenant_id,
                Invitation.email == email,
                Invitation.accepted_at.is_(None),
            )
        )

    async def redeem(self, token_hash: str, now: datetime) -> Invitation | None:
        """Mark a live invitation accepted and return it; None when unknown, used or expired."""
        return await self.session.scalar(
            update(Invitation)
            .where(
                Invitation.token_hash == token_hash,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(accepted_at=now)
            .returning(Invitation)
        )

    async def remove(self, invitation: Invitation) -> None:
        await self.session.delete(invitation)
