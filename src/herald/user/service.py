from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.user.models import Membership, Role, User
from herald.user.repository import UserRepository


async def get_or_create_user(session: AsyncSession, email: str, name: str | None = None) -> User:
    repo = UserRepository(session)
    user = await repo.by_email(email)
    if user is None:
        user = User(email=email.lower(), name=name)
        repo.add(user)
        await session.flush()
    return user


async def add_member(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, role: Role
) -> Membership:
    """Make the user a member with ``role``; an existing membership takes the new role."""
    repo = UserRepository(session)
    membership = await repo.membership(tenant_id, user_id)
    if membership is None:
        membership = Membership(tenant_id=tenant_id, user_id=user_id, role=role)
        repo.add(membership)
    else:
        membership.role = role
    await session.flush()
    return membership
