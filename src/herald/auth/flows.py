"""Membership changes that reach into authentication: accepting an invitation (redeem it,
create the account if new, join, sign in), and role changes and removals, after which a
member's API keys must not outlast their power."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.audit import service as audit
from herald.auth.service import ensure_tenant_active, revoke_keys_above
from herald.auth.signin import TokenPair, issue_tokens
from herald.kit.context import Actor, Role
from herald.kit.errors import Forbidden, NotFound
from herald.kit.passwords import hash_password
from herald.kit.tokens import digest
from herald.settings import Settings
from herald.tenant.service import get_tenant
from herald.user import service as members
from herald.user.models import Invitation, Membership, User
from herald.user.repository import InvitationRepository, UserRepository
from herald.user.service import add_member


async def _account_for(
    repo: UserRepository, invitation: Invitation, password: str | None, name: str | None
) -> User:
    """The invited address's user, created if new. An existing account keeps its password: the
    invitation proves the mailbox, not a right to replace credentials."""
    user = await repo.by_email(invitation.email)
    if user is None:
        user = User(
            email=invitation.email,
            name=name,
            password_hash=hash_password(password) if password is not None else None,
        )
        repo.add(user)
        await repo.session.flush()
    elif not user.is_active:
        raise Forbidden("This account is disabled; ask a tenant admin.")
    return user


async def accept_invitation(
    session: AsyncSession,
    settings: Settings,
    token: str,
    password: str | None = None,
    name: str | None = None,
) -> TokenPair:
    """Join the tenant and sign in to it. An existing member keeps the role they have."""
    invitation = await InvitationRepository(session).redeem(digest(token), datetime.now(UTC))
    if invitation is None:
        raise NotFound(
            "No pending invitation matches this token: it was accepted, withdrawn or has "
            "expired. Ask for a new one."
        )
    ensure_tenant_active((await get_tenant(session, invitation.tenant_id)).status)
    repo = UserRepository(session)
    user = await _account_for(repo, invitation, password, name)
    membership: Membership | None = await repo.membership(invitation.tenant_id, user.id)
    joined = membership is None
    if membership is None:
        membership = await add_member(session, invitation.tenant_id, user.id, invitation.role)
    await audit.record(
        session,
        "invitation.accepted",
        Invitation.__tablename__,
        invitation.id,
        changes={"role": membership.role.value, "joined": joined},
        tenant_id=invitation.tenant_id,
        actor=Actor(user_id=user.id),
    )
    return await issue_tokens(session, settings, membership)


async def change_member_role(
    session: AsyncSession, tenant_id: UUID, actor_role: Role, user_id: UUID, role: Role
) -> Membership:
    membership = await members.change_role(session, tenant_id, actor_role, user_id, role)
    await revoke_keys_above(session, tenant_id, user_id, role)
    return membership


async def remove_member(
    session: AsyncSession, tenant_id: UUID, actor_role: Role, user_id: UUID
) -> None:
    await members.remove_member(session, tenant_id, actor_role, user_id)
    await revoke_keys_above(session, tenant_id, user_id, None)
