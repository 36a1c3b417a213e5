"""An expiry sent in a request: aware, and later than now.

A key or rule that expires in the past would be created already dead, which is never what the
caller meant; the 422 says so instead of accepting it without a word.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field


def _in_future(value: datetime) -> datetime:
    if value <= datetime.now(UTC):
        raise ValueError(
            "must be in the future (an ISO 8601 time with its offset, e.g. "
            "2030-01-31T00:00:00Z); leave it out for no expiry"
        )
    return value


Expiry = Annotated[
    AwareDatetime,
    AfterValidator(_in_future),
    Field(description="When it stops working: a future time with its offset; null: never."),
]
