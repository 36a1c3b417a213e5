"""Who is calling, for which tenant, with which role — and the transaction they work in.

Every authenticated route takes one of the ``Viewer``/``Agent``/``Manager``/``Admin``/``Owner``
aliases. The dependency opens the request's one transaction, authenticates the bearer, then
scopes the transaction to the caller's tenant (row-level security) before the route runs. It
commits when the route returns and rolls back when it raises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.access import decode_access_token
from herald.auth.service import KEY_PREFIX, authenticate_api_key, ensure_tenant_active
from herald.kit.context import Actor, AuthContext, Role, bind_actor
from herald.kit.database import Database
from herald.kit.errors import Forbidden, Unauthorized
from herald.kit.mailer import Mailer
from herald.kit.openapi import requires_role
from herald.kit.ratelimit import RateLimiter
from herald.settings import Settings
from herald.user.repository import UserRepository

bearer = HTTPBearer(auto_error=False, description="An API key (hk_…) or an access token.")


async def _authenticate(
    session: AsyncSession, settings: Settings, token: str
) -> tuple[UUID, Role, Actor]:
    """An API key, or a user's access token, checked in the statement that also scopes the
    transaction to the caller's tenant. For a user the membership's *current* role counts, not
    the one in the token: a demotion or removal takes effect on the next request."""
    if token.startswith(KEY_PREFIX):
        key = await authenticate_api_key(session, token)
        return key.tenant_id, key.role, Actor(api_key_id=key.id)
    claims = decode_access_token(settings, token)
    repo = UserRepository(session)
    found = await repo.active_membership(claims.tenant_id, claims.user_id, scope=True)
    if found is None:
        raise Unauthorized("You are no longer a member of this tenant; sign in again.")
    membership, tenant_status = found
    ensure_tenant_active(tenant_status)
    return claims.tenant_id, membership.role, Actor(user_id=claims.user_id)


def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# Dependencies are coroutines: FastAPI runs a plain function in a thread pool, a hand-off that
# costs more than the function itself.


async def get_database(request: Request) -> Database:
    return _database(request)


async def get_app_settings(request: Request) -> Settings:
    return _settings(request)


async def get_mailer(request: Request) -> Mailer:
    """The app's mailer (``create_app`` sets it from the settings; tests swap it)."""
    mailer: Mailer = request.app.state.mailer
    return mailer


async def get_rate_limiter(request: Request) -> RateLimiter:
    return RateLimiter(_database(request), _settings(request).auth_rate_limit_per_minute)


async def client_ip(request: Request) -> str | None:
    return _ip(request)


Db = Annotated[Database, Depends(get_database)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
AppMailer = Annotated[Mailer, Depends(get_mailer)]
Limiter = Annotated[RateLimiter, Depends(get_rate_limiter)]
ClientIp = Annotated[str | None, Depends(client_ip)]


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AsyncIterator[AuthContext]:
    """Depended on with ``scope="function"``: the transaction commits when the route returns,
    before the response is sent, so a client never holds a 2xx for work that was rolled back."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send 'Authorization: Bearer <api key or access token>'.")
    async with _database(request).sessionmaker() as session, session.begin():
        tenant_id, role, who = await _authenticate(
            session, _settings(request), credentials.credentials
        )
        actor = replace(who, ip=_ip(request), user_agent=request.headers.get("user-agent"))
        ctx = AuthContext(tenant_id=tenant_id, role=role, session=session, actor=actor)
        request.state.auth = ctx
        bind_actor(session, actor, tenant_id)  # for the audit log's flush listener
        yield ctx


def require(minimum: Role) -> Callable[[AuthContext], Awaitable[AuthContext]]:
    @requires_role(minimum)  # the OpenAPI document states each operation's minimum role
    async def check(
        ctx: Annotated[AuthContext, Depends(authenticated, scope="function")],
    ) -> AuthContext:
        if not ctx.role.at_least(minimum):
            raise Forbidden(
                f"This action needs the {minimum.value} role or higher; you are {ctx.role.value}."
            )
        return ctx

    return check


Viewer = Annotated[AuthContext, Depends(require(Role.viewer))]
Agent = Annotated[AuthContext, Depends(require(Role.agent))]
Manager = Annotated[AuthContext, Depends(require(Role.manager))]
Admin = Annotated[AuthContext, Depends(require(Role.admin))]
Owner = Annotated[AuthContext, Depends(require(Role.owner))]


async def signed_in_user(
    ctx: Annotated[AuthContext, Depends(authenticated, scope="function")],
) -> AuthContext:
    if ctx.user_id is None:
        raise Forbidden("This needs a user's access token (from /v1/auth/login), not an API key.")
    return ctx


SignedIn = Annotated[AuthContext, Depends(signed_in_user)]
"""A person (any role), never an API key: for their own password and profile."""
