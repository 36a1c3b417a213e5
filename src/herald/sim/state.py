"""The simulator's memory: accepted messages (bounded, newest first), per-sender failure
controls, credentials it was told to insist on, and submitted WhatsApp templates.

Everything is in process memory on purpose: the simulator is a test double, restarted freely,
and must answer a send in microseconds (no disk, no database).
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CAPACITY = 200_000


class Verdict(StrEnum):
    """What the simulated provider does with one send."""

    accept = "accept"
    permanent = "permanent"
    transient = "transient"
    opted_out = "opted_out"
    rate_limited = "rate_limited"
    down = "down"
    timeout = "timeout"


class SenderControl(BaseModel):
    """How the simulator treats one sender (a From number or id, a WhatsApp phone number id or
    WABA id, a Vonage or Mitto sender): where its callbacks go and how it fails."""

    model_config = ConfigDict(extra="forbid")

    callback_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    signing_secret: str | None = Field(default=None, max_length=200)
    fail_permanent_share: float = Field(default=0.0, ge=0, le=1)
    fail_transient_share: float = Field(default=0.0, ge=0, le=1)
    opt_out_share: float = Field(default=0.0, ge=0, le=1)
    timeout_share: float = Field(default=0.0, ge=0, le=1)
    undelivered_share: float = Field(
        default=0.0, ge=0, le=1, description="Accepted, then reported undelivered."
    )
    read_share: float = Field(default=0.0, ge=0, le=1, description="WhatsApp: also reported read.")
    rate_limit_per_second: int | None = Field(default=None, ge=1, le=1_000_000)
    down: bool = False
    delay_ms: int = Field(default=0, ge=0, le=60_000, description="Added to every answer.")
    hang_ms: int = Field(default=30_000, ge=0, le=600_000, description="How long a timeout hangs.")
    receipt_delay_ms: int = Field(default=50, ge=0, le=600_000)


DEFAULT_CONTROL = SenderControl()


@dataclass(slots=True)
class SimMessage:
    provider: str
    provider_message_id: str
    to: str
    sender: str
    body: str
    created_at: datetime
    status: str = "accepted"
    reference: str | None = None
    account: str | None = None
    callback_url: str | None = None
    signing_secret: str | None = None
    error_code: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "provider_message_id": self.provider_message_id,
            "to": self.to,
            "from": self.sender,
            "body": self.body,
            "status": self.status,
            "reference": self.reference,
            "error_code": self.error_code,
            "created_at": self.created_at.isoformat(),
        }


@dataclass
class SimState:
    capacity: int = CAPACITY
    messages: deque[SimMessage] = field(default_factory=deque)
    by_id: dict[str, SimMessage] = field(default_factory=dict)
    senders: dict[str, SenderControl] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    templates: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """WhatsApp media by id: (MIME type, bytes), uploaded through the Cloud API's /media."""
    _windows: dict[str, tuple[int, int]] = field(default_factory=dict)
    _random: random.Random = field(default_factory=random.Random)

    def control(self, sender: str) -> SenderControl:
        return self.senders.get(sender, DEFAULT_CONTROL)

    def decide(self, sender: str) -> Verdict:
        """Down first, then the rate limit, then one draw against the failure shares."""
        control = self.control(sender)
        if control.down:
            return Verdict.down
        if control.rate_limit_per_second and not self._within_rate(sender, control):
            return Verdict.rate_limited
        draw = self._random.random()
        for verdict, share in (
            (Verdict.timeout, control.timeout_share),
            (Verdict.permanent, control.fail_permanent_share),
            (Verdict.transient, control.fail_transient_share),
            (Verdict.opted_out, control.opt_out_share),
        ):
            if draw < share:
                return verdict
            draw -= share
        return Verdict.accept

    def _within_rate(self, sender: str, control: SenderControl) -> bool:
        second = int(time.monotonic())
        start, count = self._windows.get(sender, (second, 0))
        if start != second:
            start, count = second, 0
        self._windows[sender] = (start, count + 1)
        return count < (control.rate_limit_per_second or 0)

    def draw(self, share: float) -> bool:
        return share > 0 and self._random.random() < share

    def authorized(self, account: str, secret: str | None) -> bool:
        """Any non-empty secret passes unless the account was given one to insist on."""
        if not secret:
            return False
        expected = self.credentials.get(account)
        return expected is None or expected == secret

    def record(self, message: SimMessage) -> None:
        if len(self.messages) >= self.capacity:
            oldest = self.messages.pop()
            self.by_id.pop(oldest.provider_message_id, None)
        self.messages.appendleft(message)
        self.by_id[message.provider_message_id] = message

    def find(
        self, *, to: str | None, sender: str | None, provider: str | None
    ) -> Iterator[SimMessage]:
        for message in self.messages:
            if to is not None and message.to != to:
                continue
            if sender is not None and message.sender != sender:
                continue
            if provider is not None and message.provider != provider:
                continue
            yield message

    def clear(self) -> None:
        self.messages.clear()
        self.by_id.clear()


def now() -> datetime:
    return datetime.now(UTC)
