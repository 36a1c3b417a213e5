from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from herald.kit.context import Role
from herald.kit.passwords import MIN_LENGTH


class MemberRead(BaseModel):
    user_id: UUID
    email: str
    name: str | None
    role: Role
    joined_at: datetime


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    role: Role = Role.agent


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    role: Role
    invited_by: UUID | None
    created_at: datetime
    expires_at: datetime


class InvitationAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)
    password: str | None = Field(
        default=None,
        max_length=1024,
        description=f"For a new account: at least {MIN_LENGTH} characters. Left out, the new "
        "account signs in with magic links. Ignored for an existing account.",
    )
    name: str | None = Field(default=None, max_length=200)


class MembershipRead(BaseModel):
    tenant_id: UUID
    tenant_name: str
    role: Role
    joined_at: datetime


class MeRead(BaseModel):
    id: UUID
    email: str
    name: str | None
    last_login_at: datetime | None
    memberships: list[MembershipRead]
