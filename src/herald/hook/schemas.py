"""What the webhook endpoints answer, and the per-channel counts of ``GET /v1/hooks/stats``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class HookAnswer(BaseModel):
    """A provider's callback was taken: stored now, applied shortly after (or a replay)."""

    accepted: bool = True
    duplicate: bool


class HookStats(BaseModel):
    """One channel's callbacks: stored, waiting (new or parked), ended in an error (one
    blanked for an erasure did not), and refused for a bad or missing signature (never
    stored)."""

    model_config = ConfigDict(from_attributes=True)

    channel_id: UUID
    provider: str
    received: int
    pending: int
    failed: int
    rejected: int
    last_received_at: datetime | None
    last_rejected_at: datetime | None


class HookStatsList(BaseModel):
    items: list[HookStats]
