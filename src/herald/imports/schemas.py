"""Request and response shapes of imports, and the counters a run keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from herald.contact.fields import MAX_TAGS
from herald.contact.models import ChannelKind, ConsentStatus
from herald.contact.schemas import Tag
from herald.imports.models import ImportBatch, ImportStatus
from herald.imports.reading import text_encoding
from herald.kit.phone import check_region


class ImportOptions(BaseModel):
    """How to read and apply one file; stored on the batch so a re-run behaves the same."""

    model_config = ConfigDict(extra="forbid")

    mapping: dict[str, str] | None = Field(
        default=None, description="CSV header → field (phone, email…, 'ignore', 'custom:<name>')."
    )
    default_country: Annotated[str, Field(min_length=2, max_length=2)] | None = None
    tags: list[Tag] = Field(
        default_factory=list, max_length=MAX_TAGS, description="Tags given to every row."
    )
    consent_channel: ChannelKind | None = None
    consent_status: ConsentStatus | None = None
    consent_source: Annotated[str, Field(max_length=200)] | None = None
    update_existing: bool = True
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] | None = None
    encoding: str | None = None

    @field_validator("default_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return check_region(value) if value else value

    @field_validator("encoding")
    @classmethod
    def _text_encoding(cls, value: str | None) -> str | None:
        return None if value is None else text_encoding(value)

    @field_validator("delimiter")
    @classmethod
    def _usable_delimiter(cls, value: str | None) -> str | None:
        if value is not None and value in '"\r\n':
            raise ValueError("a quote or a line break cannot separate fields")
        return value


class ImportCounts(BaseModel):
    """What a batch's rows became. The one list of an import's counters: the batch stores
    each as the column ``<name>_count``, and ``Totals`` adds the checkpoint to them."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    consent_kept: int = Field(
        default=0, description="Rows whose consent was not applied: opted out."
    )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(ImportCounts.model_fields)

    @classmethod
    def of(cls, batch: ImportBatch) -> Self:
        """The counts stored on ``batch``."""
        return cls(**{name: getattr(batch, count_column(name)) for name in cls.names()})

    def columns(self) -> dict[str, int]:
        """The batch's columns holding these counts, with their values."""
        return {count_column(name): getattr(self, name) for name in self.names()}


def count_column(name: str) -> str:
    return f"{name}_count"


class Totals(ImportCounts):
    """A run's running counts and its checkpoint (``processed``: records done and committed)."""

    processed: int = 0

    @classmethod
    def of(cls, batch: ImportBatch) -> Self:
        return cls(processed=batch.processed_rows, **ImportCounts.of(batch).model_dump())

    def columns(self) -> dict[str, int]:
        return {"processed_rows": self.processed, **super().columns()}


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
