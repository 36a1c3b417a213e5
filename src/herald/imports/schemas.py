from __future__ import annotations

import codecs
from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from herald.contact.models import ChannelKind, ConsentStatus
from herald.imports.models import ImportStatus


class ImportOptions(BaseModel):
    """How to read and apply one file; stored on the batch so a re-run behaves the same."""

    model_config = ConfigDict(extra="forbid")

    mapping: dict[str, str] | None = Field(
        default=None, description="CSV header → field (phone, email…, 'ignore', 'custom:<name>')."
    )
    default_country: Annotated[str, Field(min_length=2, max_length=2)] | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list)
    consent_channel: ChannelKind | None = None
    consent_status: ConsentStatus | None = None
    consent_source: Annotated[str, Field(max_length=200)] | None = None
    update_existing: bool = True
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] | None = None
    encoding: str | None = None

    @field_validator("default_country")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; try utf-8, utf-16 or latin-1") from None

    @field_validator("delimiter")
    @classmethod
    def _usable_delimiter(cls, value: str | None) -> str | None:
        if value is not None and value in '"\r\n':
            raise ValueError("a quote or a line break cannot separate fields")
        return value


class ImportCounts(BaseModel):
    created: int
    updated: int
    skipped: int
    rejected: int
    consent_kept: int = Field(description="Rows whose consent was not applied: opted out.")


class ImportBatchRead(BaseModel):
    id: UUID
    file_name: str
    file_sha256: str
    file_size: int
    status: ImportStatus
    total_rows: int | None = Field(description="Estimated while running, exact once completed.")
    processed_rows: int
    progress: float = Field(description="processed_rows / total_rows, from 0 to 1.")
    counts: ImportCounts
    options: dict[str, object]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    seconds: float | None = Field(description="Processing time, once finished.")
