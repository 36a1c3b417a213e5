from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,99}$"


class SecretPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=16_384, description="Write-only; never returned.")
    description: str | None = Field(default=None, max_length=500)


class SecretRead(BaseModel):
    """A secret's metadata. The value is write-only: no response ever carries it."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    last_rotated_at: datetime
