from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from herald.kit.context import Role
from herald.kit.expiry import Expiry
from herald.kit.passwords import MIN_LENGTH


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    prefix: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.admin
    expires_at: Expiry | None = None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The full key. Shown once: store it now.")


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    tenant_id: UUID | None = Field(
        default=None, description="Tenant to sign in to; default: your oldest membership."
    )


class TokenPairRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    access_token: str
    refresh_token: str = Field(description="Single use: each refresh returns a new one.")
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    tenant_id: UUID
    role: Role


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=200)


class MagicLinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    tenant_id: UUID | None = None


class MagicLinkVerify(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)


class Accepted(BaseModel):
    detail: str


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(max_length=1024, description=f"At least {MIN_LENGTH} characters.")
