from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Response, status
from fastapi.responses import HTMLResponse

from herald.auth import flows
from herald.auth.dependencies import Admin, AppMailer, AppSettings, Db, SignedIn, Viewer
from herald.auth.pages import token_page
from herald.auth.schemas import TokenPairRead
from herald.kit.pagination import Page, PageParams, build_page, page_of, page_params
from herald.user import service
from herald.user.models import Membership, User
from herald.user.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationRead,
    MemberRead,
    MembershipRead,
    MemberUpdate,
    MeRead,
)

members = APIRouter(prefix="/v1/members", tags=["members"])
invitations = APIRouter(prefix="/v1/invitations", tags=["members"])
me = APIRouter(prefix="/v1/me", tags=["members"])

Params = Annotated[PageParams, Depends(page_params)]


def _member_read(membership: Membership, user: User) -> MemberRead:
    return MemberRead(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=membership.role,
        joined_at=membership.created_at,
    )


@members.get("", response_model=Page[MemberRead], summary="List the tenant's members")
async def list_members(auth: Viewer, params: Params) -> Page[MemberRead]:
    rows = await service.list_members(auth.session, auth.tenant_id, params)
    page, cursor = build_page([m for m, _ in rows], params, "id")
    users = {m.id: u for m, u in rows}
    return Page(items=[_member_read(m, users[m.id]) for m in page], next_cursor=cursor)


@members.patch("/{user_id}", response_model=MemberRead, summary="Change a member's role")
async def update_member(user_id: UUID, data: MemberUpdate, auth: Admin) -> MemberRead:
    membership = await flows.change_member_role(
        auth.session, auth.tenant_id, auth.role, user_id, data.role
    )
    user = await service.get_member_user(auth.session, auth.tenant_id, user_id)
    return _member_read(membership, user)


@members.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a member")
async def remove_member(user_id: UUID, auth: Admin) -> Response:
    await flows.remove_member(auth.session, auth.tenant_id, auth.role, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@invitations.post(
    "",
    response_model=InvitationRead,
    status_code=status.HTTP_201_CREATED,
    summary="Invite someone by email",
)
async def create_invitation(
    data: InvitationCreate,
    auth: Admin,
    settings: AppSettings,
    mailer: AppMailer,
    background: BackgroundTasks,
) -> InvitationRead:
    """Mails a link that works once, for 7 days. A pending invitation to the same address is
    replaced."""
    invitation, mail = await service.invite(
        auth.session, settings, auth.tenant_id, auth.role, data.email, data.role, auth.user_id
    )
    background.add_task(mailer.send, mail)
    return InvitationRead.model_validate(invitation)


@invitations.get("", response_model=Page[InvitationRead], summary="List pending invitations")
async def list_invitations(auth: Admin, params: Params) -> Page[InvitationRead]:
    found = await service.pending_invitations(auth.session, auth.tenant_id, params)
    return page_of(found, InvitationRead)


@invitations.delete(
    "/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Withdraw an invitation"
)
async def delete_invitation(invitation_id: UUID, auth: Admin) -> Response:
    await service.delete_invitation(auth.session, auth.tenant_id, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@invitations.post(
    "/accept",
    response_model=TokenPairRead,
    summary="Accept an invitation and sign in",
    responses={403: {"description": "The inviting tenant is suspended."}},
)
async def accept_invitation(data: InvitationAccept, db: Db, settings: AppSettings) -> TokenPairRead:
    async with db.system_session() as session:
        pair = await flows.accept_invitation(
            session, settings, data.token, data.password, data.name
        )
    return TokenPairRead.model_validate(pair)


@invitations.get(
    "/accept",
    response_class=HTMLResponse,
    summary="The page an invitation link opens (does not use the token)",
)
async def invitation_page(
    token: Annotated[str, Query(min_length=1, max_length=200)],
) -> HTMLResponse:
    return token_page(
        title="Join a Herald team",
        intro="New to Herald? Give your name and choose a password (10 characters or more). "
        "Already have an account? Leave both empty.",
        action="/v1/invitations/accept",
        token=token,
        button="Accept the invitation",
        fields='<input name="name" placeholder="Your name" autocomplete="name">'
        '<input name="password" type="password" placeholder="Password" '
        'autocomplete="new-password">',
    )


@me.get("", response_model=MeRead, summary="You and your memberships")
async def read_me(auth: SignedIn, db: Db) -> MeRead:
    """Memberships span tenants, so they are read outside the request's tenant scope."""
    assert auth.user_id is not None  # SignedIn guarantees a user
    async with db.system_session() as session:
        user, rows = await service.read_profile(session, auth.user_id)
    return MeRead(
        id=user.id,
        email=user.email,
        name=user.name,
        last_login_at=user.last_login_at,
        memberships=[
            MembershipRead(tenant_id=t.id, tenant_name=t.name, role=m.role, joined_at=m.created_at)
            for m, t in rows
        ],
    )
