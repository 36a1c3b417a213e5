from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from herald.sms.encoding import Encoding

MAX_TEXT = 10_000
"""Longest text inspected (about 65 GSM segments): far past any real SMS."""


class InspectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_TEXT, description="The SMS body, as it will be sent.")
    smart_encoding: bool | None = Field(
        default=None,
        description="Try GSM look-alikes for curly quotes, dashes and odd spaces; "
        "null: the tenant's smart_encoding setting.",
    )


class SmartReplacementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    character: str
    replacement: str = Field(description="Empty for an invisible character that was dropped.")
    count: int


class InspectionRead(BaseModel):
    """``herald.sms.encoding.SmsInspection`` as JSON (the CLI's --json prints the same keys)."""

    model_config = ConfigDict(from_attributes=True)

    text: str = Field(description="The text that would be sent (after smart replacements).")
    encoding: Encoding
    segments: int = Field(description="Messages billed; 0 for an empty text.")
    characters: int = Field(description="Unicode code points of the text sent.")
    units: int = Field(
        description="GSM-7 septets (extension characters count two) or UCS-2 code units "
        "(an emoji outside the BMP counts two)."
    )
    ucs2_characters: list[str] = Field(
        description="The distinct characters that force UCS-2, in order of first appearance."
    )
    parts: list[str] = Field(description="Each segment's text; together they are the text.")
    smart: bool = Field(description="Whether smart encoding was tried.")
    smart_replacements: list[SmartReplacementRead]
    original_segments: int = Field(description="Segments of the text as written.")
    segments_saved: int = Field(description="original_segments - segments.")
