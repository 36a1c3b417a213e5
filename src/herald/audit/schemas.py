from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    created_at: datetime
    actor: str | None = Field(description="'user:<id>' or 'api_key:<id>'.")
    actor_user_id: UUID | None
    actor_api_key_id: UUID | None
    action: str
    resource_type: str
    resource_id: str | None
    changes: dict[str, Any] = Field(description="field → {old, new}; secrets are redacted.")
    ip: str | None
    user_agent: str | None
    request_id: str | None


class AuditFilters(BaseModel):
    action: str | None = Field(default=None, max_length=100)
    resource_type: str | None = Field(default=None, max_length=64)
    resource_id: str | None = Field(default=None, max_length=200)
    actor: UUID | None = Field(default=None, description="A user id or an API key id.")
    since: AwareDatetime | None = Field(default=None, description="Entries at or after.")
    until: AwareDatetime | None = Field(default=None, description="Entries before.")
