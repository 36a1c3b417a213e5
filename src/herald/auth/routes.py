from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Response, status
from fastapi.responses import HTMLResponse

from herald.audit import service as audit
from herald.auth import service, signin
from herald.auth.dependencies import (
    Admin,
    AppMailer,
    AppSettings,
    ClientIp,
    Db,
    Limiter,
    SignedIn,
)
from herald.auth.pages import token_page
from herald.auth.schemas import (
    Accepted,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    LoginRequest,
    MagicLinkRequest,
    MagicLinkVerify,
    PasswordChange,
    RefreshRequest,
    TokenPairRead,
)
from herald.kit.pagination import Page, PageParams, page_of, page_params

api_keys = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


@api_keys.get("", response_model=Page[ApiKeyRead], summary="List the tenant's API keys")
async def list_api_keys(
    auth: Admin, params: Annotated[PageParams, Depends(page_params)]
) -> Page[ApiKeyRead]:
    return page_of(await service.list_api_keys(auth.session, auth.tenant_id, params), ApiKeyRead)


@api_keys.post(
    "", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED, summary="Create a key"
)
async def create_api_key(data: ApiKeyCreate, auth: Admin) -> ApiKeyCreated:
    service.ensure_may_manage(auth.role, data.role, "create")
    issued = await service.issue_api_key(
        auth.session,
        auth.tenant_id,
        data.name,
        data.role,
        created_by=auth.user_id,
        expires_at=data.expires_at,
    )
    read = ApiKeyRead.model_validate(issued.key)
    return ApiKeyCreated(**read.model_dump(), key=issued.secret)


@api_keys.delete("/{key_id}", response_model=ApiKeyRead, summary="Revoke a key")
async def revoke_api_key(key_id: UUID, auth: Admin) -> ApiKeyRead:
    key = await service.revoke_api_key(auth.session, auth.tenant_id, key_id, by=auth.role)
    return ApiKeyRead.model_validate(key)


sessions = APIRouter(prefix="/v1/auth", tags=["sign-in"])


@sessions.post("/login", response_model=TokenPairRead, summary="Sign in with email and password")
async def login(
    data: LoginRequest, db: Db, settings: AppSettings, limiter: Limiter, ip: ClientIp
) -> TokenPairRead:
    await limiter.check("login", ip, data.email)
    async with signin.sign_in_transaction(db) as session:
        pair = await signin.login(session, settings, data.email, data.password, data.tenant_id)
    return TokenPairRead.model_validate(pair)


@sessions.post("/refresh", response_model=TokenPairRead, summary="Trade a refresh token")
async def refresh(
    data: RefreshRequest, db: Db, settings: AppSettings, limiter: Limiter, ip: ClientIp
) -> TokenPairRead:
    await limiter.check("refresh", ip)
    async with signin.sign_in_transaction(db) as session:
        pair = await signin.refresh(session, settings, data.refresh_token)
    return TokenPairRead.model_validate(pair)


@sessions.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a refresh token's family",
    responses={401: {"description": "The refresh token is unknown, used or expired."}},
)
async def logout(data: RefreshRequest, db: Db) -> Response:
    async with db.system_session() as session:
        await signin.logout(session, data.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@sessions.post(
    "/magic-link",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email a single-use sign-in link",
)
async def request_magic_link(
    data: MagicLinkRequest,
    db: Db,
    settings: AppSettings,
    mailer: AppMailer,
    limiter: Limiter,
    ip: ClientIp,
    background: BackgroundTasks,
) -> Accepted:
    """Answers the same whether or not the address has an account. The mail goes out after the
    response, so the answer's timing does not tell either."""
    await limiter.check("magic-link", ip, data.email)
    async with db.system_session() as session:
        mail = await signin.request_magic_link(session, settings, data.email, data.tenant_id)
    if mail is not None:
        background.add_task(mailer.send, mail)
    return Accepted(detail="If the address has an account, a sign-in link is on its way.")


@sessions.post(
    "/magic-link/verify", response_model=TokenPairRead, summary="Sign in with a magic link"
)
async def verify_magic_link(
    data: MagicLinkVerify, db: Db, settings: AppSettings, limiter: Limiter, ip: ClientIp
) -> TokenPairRead:
    await limiter.check("magic-link-verify", ip)
    async with db.system_session() as session:
        pair = await signin.verify_magic_link(session, settings, data.token)
    return TokenPairRead.model_validate(pair)


@sessions.get(
    "/magic-link/verify",
    response_class=HTMLResponse,
    summary="The page a magic link opens (does not use the token)",
)
async def magic_link_page(
    token: Annotated[str, Query(min_length=1, max_length=200)],
) -> HTMLResponse:
    return token_page(
        title="Sign in to Herald",
        intro="This link signs you in once. Press the button to use it now.",
        action="/v1/auth/magic-link/verify",
        token=token,
        button="Sign in",
    )


@sessions.post("/password", status_code=status.HTTP_204_NO_CONTENT, summary="Change your password")
async def change_password(
    data: PasswordChange, auth: SignedIn, db: Db, limiter: Limiter, ip: ClientIp
) -> Response:
    """Needs the current password. Signs out every other device (their refresh tokens).
    Rate limited like sign-in: a stolen access token must not become a password oracle."""
    assert auth.user_id is not None  # SignedIn guarantees a user
    await limiter.check("password", ip, str(auth.user_id))
    async with db.system_session() as session:
        await signin.change_password(
            session, auth.user_id, data.current_password, data.new_password
        )
        # In the tenant the person signed in to (a password is theirs across tenants).
        await audit.record(
            session,
            "user.password_changed",
            "users",
            auth.user_id,
            tenant_id=auth.tenant_id,
            actor=auth.actor,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
