"""Users and memberships: who belongs to a tenant, with which role, and who may change that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.context import Role
from herald.kit.errors import Conflict, Forbidden, NotFound
from herald.kit.mailer import Mail
from herald.kit.pagination import PageParams, Slice
from herald.kit.passwords import hash_password
from herald.kit.tokens import digest, random_token
from herald.settings import Settings
from herald.tenant.models import Tenant
from herald.tenant.service import get_tenant
from herald.user.models import Invitation, Membership, User
from herald.user.repository import InvitationRepository, UserRepository

INVITATION_LIFETIME = timedelta(days=7)


async def get_or_create_user(session: AsyncSession, email: str, name: str | None = None) -> User:
    repo = UserRepository(session)
    user = await repo.by_email(email)
    if user is None:
        user = User(email=email.lower(), name=name)
        repo.add(user)
        await session.flush()
    return user


async def get_user_by_email(session: AsyncSession, email: str) -> User:
    user = await UserRepository(session).by_email(email)
    if user is None:
        raise NotFound(f"No user with the email {email}.")
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


async def set_password(session: AsyncSession, email: str, password: str) -> User:
    """Set a password without the old one (operators, from the command line)."""
    user = await get_user_by_email(session, email)
    user.password_hash = hash_password(password)
    return user


async def unlock(session: AsyncSession, email: str) -> User:
    user = await get_user_by_email(session, email)
    user.locked_until = None
    user.failed_login_attempts = 0
    return user


async def _member_below(
    repo: UserRepository, tenant_id: UUID, actor_role: Role, user_id: UUID
) -> Membership:
    """The member ``user_id``, provided the actor's role is at least theirs."""
    membership = await repo.membership(tenant_id, user_id)
    if membership is None:
        raise NotFound(f"No member {user_id} in this tenant.")
    if not actor_role.at_least(membership.role):
        raise Forbidden(
            f"This member is {membership.role.value}, above your role ({actor_role.value})."
        )
    return membership


async def _keep_an_owner(repo: UserRepository, membership: Membership) -> None:
    """Refuse to take the owner role from the tenant's only owner."""
    if membership.role != Role.owner:
        return
    owners = await repo.lock_owners(membership.tenant_id)
    if owners == [membership.user_id]:
        raise Conflict("This is the tenant's last owner; make another member owner first.")


async def change_role(
    session: AsyncSession, tenant_id: UUID, actor_role: Role, user_id: UUID, role: Role
) -> Membership:
    if not actor_role.at_least(role):
        raise Forbidden(
            f"You cannot give the {role.value} role: it is above yours ({actor_role.value})."
        )
    repo = UserRepository(session)
    membership = await _member_below(repo, tenant_id, actor_role, user_id)
    if role != Role.owner:
        await _keep_an_owner(repo, membership)
    membership.role = role
    await session.flush()
    return membership


async def remove_member(
    session: AsyncSession, tenant_id: UUID, actor_role: Role, user_id: UUID
) -> None:
    repo = UserRepository(session)
    membership = await _member_below(repo, tenant_id, actor_role, user_id)
    await _keep_an_owner(repo, membership)
    await repo.remove(membership)


async def invite(
    session: AsyncSession,
    settings: Settings,
    tenant_id: UUID,
    actor_role: Role,
    email: str,
    role: Role,
    invited_by: UUID | None,
) -> tuple[Invitation, Mail]:
    """A new invitation (replacing any pending one for the address) and the mail carrying it."""
    if not actor_role.at_least(role):
        raise Forbidden(
            f"You cannot invite with the {role.value} role: it is above yours ({actor_role.value})."
        )
    email = email.lower()
    user = await UserRepository(session).by_email(email)
    if user is not None and await UserRepository(session).membership(tenant_id, user.id):
        raise Conflict(f"{email} is already a member; change their role instead.")
    repo = InvitationRepository(session)
    await repo.withdraw_pending(tenant_id, email)
    secret = random_token(32)
    invitation = Invitation(
        tenant_id=tenant_id,
        email=email,
        role=role,
        token_hash=digest(secret),
        invited_by=invited_by,
        expires_at=datetime.now(UTC) + INVITATION_LIFETIME,
    )
    repo.add(invitation)
    await session.flush()
    tenant = await get_tenant(session, tenant_id)
    link = f"{settings.base_url}/v1/invitations/accept?token={secret}"
    mail = Mail(
        to=email,
        subject=f"You are invited to {tenant.name} on Herald",
        text=(
            f"You are invited to join {tenant.name} on Herald as {role.value}.\n\n"
            f"Accept with this link within {INVITATION_LIFETIME.days} days:\n\n{link}\n"
        ),
    )
    return invitation, mail


async def delete_invitation(session: AsyncSession, tenant_id: UUID, invitation_id: UUID) -> None:
    repo = InvitationRepository(session)
    invitation = await repo.get(tenant_id, invitation_id)
    if invitation is None:
        raise NotFound(f"No invitation {invitation_id} in this tenant.")
    await repo.remove(invitation)


async def list_members(
    session: AsyncSession, tenant_id: UUID, params: PageParams
) -> list[tuple[Membership, User]]:
    return await UserRepository(session).members(tenant_id, params)


async def get_member_user(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None or await UserRepository(session).membership(tenant_id, user_id) is None:
        raise NotFound(f"No member {user_id} in this tenant.")
    return user


async def pending_invitations(
    session: AsyncSession, tenant_id: UUID, params: PageParams
) -> Slice[Invitation]:
    return await InvitationRepository(session).pending(tenant_id, params)


async def read_profile(
    session: AsyncSession, user_id: UUID
) -> tuple[User, list[tuple[Membership, Tenant]]]:
    """The person and their memberships in every tenant (read outside any tenant's scope)."""
    repo = UserRepository(session)
    user = await repo.get(user_id)
    if user is None:
        raise NotFound("Your account no longer exists; sign in again.")
    return user, await repo.memberships_of(user_id)
