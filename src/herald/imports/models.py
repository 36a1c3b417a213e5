"""Import batches, the uploaded file (kept in the database so any worker can read it) and the
rows an import rejected or skipped."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin, str_enum


class ImportStatus(StrEnum):
    pending = "pending"
    processing = "processing"
    completed = "completed"
    failed = "failed"


class IssueKind(StrEnum):
    rejected = "rejected"
    """The row could not be imported (bad phone, bad date, email taken…)."""
    skipped = "skipped"
    """The row was valid but not written (a duplicate inside the file, an existing contact)."""


class ImportBatch(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    __tablename__ = "import_batches"
    __audited__ = frozenset({"file_name", "file_sha256", "file_size", "status", "options"})
    """The run's counters and errors are written with SQL and reported by the batch itself."""
    __table_args__ = (Index("ix_import_batches_tenant_id_file_sha256", "tenant_id", "file_sha256"),)

    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(Integer)
    status: Mapped[ImportStatus] = mapped_column(
        str_enum(ImportStatus), default=ImportStatus.pending, server_default="pending"
    )
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    """The ``ImportOptions`` the batch runs with, so a re-run behaves the same."""
    total_rows: Mapped[int | None]
    """An estimate (line count) while running; the exact record count once completed."""
    processed_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    """Records done and committed: the checkpoint a re-run continues from."""
    created_count: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_count: Mapped[int] = mapped_column(default=0, server_default="0")
    skipped_count: Mapped[int] = mapped_column(default=0, server_default="0")
    rejected_count: Mapped[int] = mapped_column(default=0, server_default="0")
    consent_kept_count: Mapped[int] = mapped_column(default=0, server_default="0")
    """Rows whose consent was not applied because the contact had opted out."""
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class ImportFilePart(TenantScopedMixin, Base):
    """The uploaded file in parts of at most ``PART_SIZE`` bytes, read back in order."""

    __tablename__ = "import_file_parts"
    __audited__ = False
    """Pieces of the raw file: a person's data, never copied into the audit log."""

    batch_id: Mapped[UUID] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ImportIssue(TenantScopedMixin, Base):
    """A rejected or skipped row: its physical line, why, and the row as it was in the file."""

    __tablename__ = "import_issues"
    __audited__ = False
    """Rows of the file as they were: a person's data, never copied into the audit log."""

    batch_id: Mapped[UUID] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[IssueKind] = mapped_column(str_enum(IssueKind))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
