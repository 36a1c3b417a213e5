"""Signing in: passwords with lockout, magic links, and access/refresh token pairs.

These run in system transactions (the caller is not yet scoped to a tenant), opened with
``sign_in_transaction``: it commits even when the attempt fails, because a failed attempt has
effects that must stick — the failure count, the lock, a refresh family revoked on reuse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.access import issue_access_token
from herald.auth.models import MagicLinkToken, RefreshToken
from herald.auth.repository import MagicLinkRepository, RefreshTokenRepository
from herald.auth.service import ensure_tenant_active
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.errors import Forbidden, HeraldError, Unauthorized
from herald.kit.ids import new_id
from herald.kit.mailer import Mail
from herald.kit.passwords import hash_password, upgraded_hash, verify_password
from herald.kit.tokens import digest, random_token
from herald.settings import Settings
from herald.tenant.models import TenantStatus
from herald.user.models import Membership, User
from herald.user.repository import UserRepository

BAD_CREDENTIALS = (
    "The email or password is not correct, or the account is locked for a while after too many "
    "failed attempts. Check both, wait a few minutes, or sign in with a magic link."
)
"""The one answer to a sign-in that fails for any reason a guesser could use: an unknown
email, a wrong password, and any password at all while the account is locked."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    """Seconds the access token lives."""
    tenant_id: UUID
    role: Role


@asynccontextmanager
async def sign_in_transaction(db: Database) -> AsyncIterator[AsyncSession]:
    """A system transaction that commits on success *and* on a ``HeraldError`` (then re-raised),
    and rolls back on any other exception."""
    async with db.sessionmaker() as session:
        await session.begin()
        try:
            yield session
        except HeraldError:
            await session.commit()
            raise
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


async def choose_membership(
    session: AsyncSession, user_id: UUID, tenant_id: UUID | None
) -> Membership:
    """The membership to sign in with: the requested tenant's, or else the oldest one of an
    active tenant (a suspended tenant is refused, never chosen for the person)."""
    rows = await UserRepository(session).memberships_of(user_id)
    if tenant_id is not None:
        rows = [(m, t) for m, t in rows if t.id == tenant_id]
        if not rows:
            raise Forbidden(f"You are not a member of tenant {tenant_id}; leave tenant_id out.")
    if not rows:
        raise Forbidden("Your account belongs to no tenant; ask a tenant admin to invite you.")
    active = [m for m, t in rows if t.status is TenantStatus.active]
    if not active:
        ensure_tenant_active(rows[0][1].status)
    return active[0]


async def issue_tokens(
    session: AsyncSession,
    settings: Settings,
    membership: Membership,
    family_id: UUID | None = None,
) -> TokenPair:
    """An access token and a refresh token; a new refresh family unless ``family_id`` is given."""
    secret = random_token(32)
    RefreshTokenRepository(session).add(
        RefreshToken(
            tenant_id=membership.tenant_id,
            user_id=membership.user_id,
            family_id=family_id or new_id(),
            token_hash=digest(secret),
            expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_days),
        )
    )
    await session.flush()
    access = issue_access_token(settings, membership.user_id, membership.tenant_id, membership.role)
    return TokenPair(
        access_token=access,
        refresh_token=secret,
        expires_in=settings.access_token_minutes * 60,
        tenant_id=membership.tenant_id,
        role=membership.role,
    )


async def _fail(repo: UserRepository, settings: Settings, user: User, now: datetime) -> None:
    """Count a wrong password, and lock the account once the threshold is reached."""
    if await repo.count_failure(user.id) >= settings.lockout_threshold:
        await repo.lock(user.id, now + timedelta(minutes=settings.lockout_minutes))


async def login(
    session: AsyncSession,
    settings: Settings,
    email: str,
    password: str,
    tenant_id: UUID | None = None,
) -> TokenPair:
    """Email and password → tokens. An unknown email, a wrong password and any password on a
    locked account answer alike, and all run an argon2 verification: were the right password
    answered differently during a lock, guessing could go on uncounted while the lock holds,
    and the lock would confirm the right guess."""
    repo = UserRepository(session)
    user = await repo.by_email(email)
    now = datetime.now(UTC)
    valid = verify_password(user.password_hash if user else None, password)
    if user is None:
        raise Unauthorized(BAD_CREDENTIALS)
    if user.locked_until is not None and user.locked_until > now:
        raise Unauthorized(BAD_CREDENTIALS)
    if not valid:
        await _fail(repo, settings, user, now)
        raise Unauthorized(BAD_CREDENTIALS)
    if not user.is_active:
        raise Forbidden("This account is disabled; ask a tenant admin.")
    membership = await choose_membership(session, user.id, tenant_id)
    user.failed_login_attempts = 0
    user.locked_until = None
    user.last_login_at = now
    user.password_hash = upgraded_hash(user.password_hash, password) or user.password_hash
    return await issue_tokens(session, settings, membership)


async def _refuse_reuse(
    tokens: RefreshTokenRepository, token: RefreshToken, now: datetime
) -> NoReturn:
    await tokens.revoke_family(token.family_id, now)
    raise Unauthorized(
        "The refresh token was already used, so it may have been copied: every token of "
        "this sign-in is now revoked. Sign in again."
    )


async def refresh(session: AsyncSession, settings: Settings, raw: str) -> TokenPair:
    """Rotate a refresh token. Presenting one that was already used revokes its whole family:
    either the holder or a thief is replaying it, and the server cannot tell which."""
    tokens = RefreshTokenRepository(session)
    token = await tokens.by_hash(digest(raw))
    now = datetime.now(UTC)
    if token is None:
        raise Unauthorized("The refresh token is not valid; sign in again.")
    if token.revoked_at is not None:
        raise Unauthorized("The refresh token was revoked; sign in again.")
    if token.expires_at <= now:
        raise Unauthorized("The refresh token has expired; sign in again.")
    if token.used_at is not None:
        await _refuse_reuse(tokens, token, now)
    found = await UserRepository(session).active_membership(token.tenant_id, token.user_id)
    if found is not None:
        ensure_tenant_active(found[1])  # before the token is used: it works again on resume
    if not await tokens.claim(token.id, now):  # used meanwhile by a concurrent refresh
        await _refuse_reuse(tokens, token, now)
    if found is None:
        await tokens.revoke_family(token.family_id, now)
        raise Unauthorized("You are no longer a member of this tenant; sign in again.")
    return await issue_tokens(session, settings, found[0], family_id=token.family_id)


async def logout(session: AsyncSession, raw: str) -> None:
    """Revoke the refresh token's family (this sign-in on every device it was refreshed on)."""
    tokens = RefreshTokenRepository(session)
    token = await tokens.by_hash(digest(raw))
    if token is None:
        raise Unauthorized("The refresh token is not valid; there is nothing to sign out of.")
    await tokens.revoke_family(token.family_id, datetime.now(UTC))


async def request_magic_link(
    session: AsyncSession, settings: Settings, email: str, tenant_id: UUID | None
) -> Mail | None:
    """A single-use sign-in link for the user, as a mail to send; None when there is nobody to
    send it to (the caller answers the same either way)."""
    repo = UserRepository(session)
    user = await repo.by_email(email)
    if user is None or not user.is_active:
        return None
    if tenant_id is not None and await repo.membership(tenant_id, user.id) is None:
        return None
    secret = random_token(32)
    MagicLinkRepository(session).add(
        MagicLinkToken(
            user_id=user.id,
            tenant_id=tenant_id,
            token_hash=digest(secret),
            expires_at=datetime.now(UTC) + timedelta(minutes=settings.magic_link_minutes),
        )
    )
    await session.flush()
    link = f"{settings.base_url}/v1/auth/magic-link/verify?token={secret}"
    return Mail(
        to=user.email,
        subject="Your Herald sign-in link",
        text=(
            f"Sign in to Herald with this link:\n\n{link}\n\n"
            f"It works once, for {settings.magic_link_minutes} minutes. "
            "If you did not ask for it, ignore this mail."
        ),
    )


async def verify_magic_link(session: AsyncSession, settings: Settings, raw: str) -> TokenPair:
    """Redeem a magic link for tokens. It proves the mailbox, so it also works while the
    password is locked out — that lock guards against password guessing only."""
    now = datetime.now(UTC)
    token = await MagicLinkRepository(session).redeem(digest(raw), now)
    if token is None:
        raise Unauthorized("The sign-in link is not valid, was already used or has expired.")
    user = await UserRepository(session).get(token.user_id)
    if user is None or not user.is_active:
        raise Forbidden("This account is disabled; ask a tenant admin.")
    membership = await choose_membership(session, user.id, token.tenant_id)
    user.last_login_at = now
    return await issue_tokens(session, settings, membership)


async def change_password(session: AsyncSession, user_id: UUID, current: str, new: str) -> None:
    """Set a new password after checking the current one; every refresh token of the user is
    revoked, so other devices must sign in again."""
    user = await UserRepository(session).get(user_id)
    if user is None or not verify_password(user.password_hash, current):
        raise Forbidden("The current password is not correct.")
    user.password_hash = hash_password(new)
    await RefreshTokenRepository(session).revoke_user(user_id, datetime.now(UTC))
