"""Who acts, for which tenant, with which role: the context every layer may read.

It lives in ``kit`` so that the audit log, which every domain writes to, and the domains
themselves can name the actor without importing the authentication layer above them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


class Role(StrEnum):
    """A member's role in one tenant, from most to least powerful."""

    owner = "owner"
    admin = "admin"
    manager = "manager"
    agent = "agent"
    viewer = "viewer"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANKS = {Role.owner: 5, Role.admin: 4, Role.manager: 3, Role.agent: 2, Role.viewer: 1}


@dataclass(frozen=True)
class Actor:
    """Who makes a change and from where: a member, an API key, or Herald itself (neither)."""

    user_id: UUID | None = None
    api_key_id: UUID | None = None
    ip: str | None = None
    user_agent: str | None = None

    @property
    def label(self) -> str | None:
        """``user:<id>`` or ``api_key:<id>``, as consent proofs and the DNC list record it."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        if self.api_key_id is not None:
            return f"api_key:{self.api_key_id}"
        return None


SYSTEM = Actor()
"""Herald's own work (background jobs, the operator's command line)."""


@dataclass(frozen=True)
class AuthContext:
    """An authenticated request: its tenant, the caller's role, the transaction it runs in."""

    tenant_id: UUID
    role: Role
    session: AsyncSession
    actor: Actor

    @property
    def user_id(self) -> UUID | None:
        return self.actor.user_id

    @property
    def api_key_id(self) -> UUID | None:
        return self.actor.api_key_id

    @property
    def ip(self) -> str | None:
        return self.actor.ip


ACTOR_KEY = "herald.actor"
"""Where a session carries its actor (``session.info``) for the audit log's flush listener."""


def bind_actor(session: AsyncSession, actor: Actor, tenant_id: UUID) -> None:
    """Make every flush of ``session`` audited as ``actor``'s work in ``tenant_id``."""
    session.info[ACTOR_KEY] = (actor, tenant_id)


def bound_actor(session: AsyncSession | Session) -> tuple[Actor, UUID] | None:
    """The actor and tenant ``bind_actor`` gave ``session`` (the async one or its sync core)."""
    found = session.info.get(ACTOR_KEY)
    return found if isinstance(found, tuple) else None
