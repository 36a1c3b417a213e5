"""Import batches: accept a file, run it (inline, in a worker, or from the command line),
report on it. The pipeline itself is in ``herald.imports.pipeline``."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import BinaryIO
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.contact.service import ErasedPerson, tenant_region
from herald.imports.models import ImportBatch, ImportStatus
from herald.imports.pipeline import Importer, Job, Progress, open_file
from herald.imports.reading import UnreadableFile, estimate_rows
from herald.imports.repository import ImportRepository, exclusive_run
from herald.imports.schemas import ImportBatchRead, ImportCounts, ImportOptions, Totals
from herald.kit.context import SYSTEM, Actor
from herald.kit.database import Database
from herald.kit.errors import Conflict, NotFound, Unprocessable
from herald.kit.pagination import Page, PageParams
from herald.kit.phone import national_digits
from herald.tenant.models import TenantStatus
from herald.tenant.service import get_tenant

INLINE_MAX_BYTES = 256 * 1024
"""Files up to this size are imported within the request; larger ones by a worker."""
POOL_MIN_BYTES = 4 * 1024 * 1024
"""Below this, starting worker processes costs more than it saves."""
PART_SIZE = 1024 * 1024
TASK_QUEUE = "imports"


def digest(file: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size, read in blocks (then rewound)."""
    sha, size = hashlib.sha256(), 0
    for block in iter(lambda: file.read(PART_SIZE), b""):
        sha.update(block)
        size += len(block)
    file.seek(0)
    return sha.hexdigest(), size


def workers_for(size: int) -> int:
    """Processes that normalize a file of ``size`` bytes. Two already outpace the merge into
    PostgreSQL (the slow step); more would only take its cores."""
    return min(2, os.cpu_count() or 1) if size >= POOL_MIN_BYTES else 1


def _probe(file: BinaryIO, options: ImportOptions, region: str | None) -> None:
    """Refuse a file that cannot be imported at all before anything is written."""
    try:
        open_file(file, options, region).release()
    except UnreadableFile as exc:
        raise Unprocessable(str(exc)) from exc
    finally:
        file.seek(0)


async def _earlier(
    session: AsyncSession, tenant_id: UUID, sha256: str, *, force: bool
) -> ImportBatch | None:
    """The earlier batch of this file that did not complete (to continue or to wait for); a
    completed one answers 409 unless ``force``. Concurrent submissions of one file queue on
    a lock here, so the later ones see the batch the first one made."""
    repo = ImportRepository(session)
    await repo.lock_file(tenant_id, sha256)
    earlier = await repo.find_by_hash(tenant_id, sha256)
    if earlier is None or force:
        return None
    if earlier.status is ImportStatus.completed:
        raise Conflict(
            f"This file was already imported as batch {earlier.id}. "
            "Send force=true (--force on the command line) to import it again.",
            earlier_batch_id=str(earlier.id),
        )
    return earlier


async def _new_batch(
    session: AsyncSession,
    tenant_id: UUID,
    file: BinaryIO,
    file_name: str,
    sha256: str,
    size: int,
    options: ImportOptions,
    actor: Actor,
) -> ImportBatch:
    batch = ImportBatch(
        tenant_id=tenant_id,
        file_name=file_name[:255],
        file_sha256=sha256,
        file_size=size,
        options=options.model_dump(mode="json", exclude_none=True),
        total_rows=estimate_rows(file),
        created_by=actor.label,
    )
    return await ImportRepository(session).add_batch(batch)


async def submit(
    session: AsyncSession,
    tenant_id: UUID,
    file: BinaryIO,
    file_name: str,
    options: ImportOptions,
    *,
    force: bool,
    actor: Actor,
) -> ImportBatch:
    """Accept a file from the API. Small files are imported in the caller's transaction;
    larger ones are stored with the batch, which stays ``pending``: the caller queues the job
    (``tasks.run_import``) in that same transaction."""
    sha256, size = digest(file)
    region = await tenant_region(session, tenant_id, options.default_country)
    _probe(file, options, region)
    earlier = await _earlier(session, tenant_id, sha256, force=force)
    if earlier is not None and earlier.status is not ImportStatus.failed:
        raise Conflict(
            f"This file is being imported already as batch {earlier.id}; follow its progress "
            "at GET /v1/imports/{id}, or send force=true to import it again.",
            earlier_batch_id=str(earlier.id),
        )
    batch = await _new_batch(session, tenant_id, file, file_name, sha256, size, options, actor)
    if size <= INLINE_MAX_BYTES:
        await _run_inline(session, batch, file, region)
    else:
        await _store(session, batch, file)
    return await ImportRepository(session).reload(batch)


async def _run_inline(
    session: AsyncSession, batch: ImportBatch, file: BinaryIO, region: str | None
) -> None:
    @asynccontextmanager
    async def same_transaction() -> AsyncIterator[AsyncSession]:
        yield session

    repo = ImportRepository(session)
    await repo.start(batch.id)
    job = _job(batch, region)
    totals = await Importer(job, open_file(file, job.options, region), same_transaction).run(1)
    await repo.complete(batch.id, totals.processed)


async def _store(session: AsyncSession, batch: ImportBatch, file: BinaryIO) -> None:
    repo = ImportRepository(session)
    for seq, block in enumerate(iter(lambda: file.read(PART_SIZE), b"")):
        await repo.save_file_part(batch.tenant_id, batch.id, seq, block)


def _job(batch: ImportBatch, region: str | None) -> Job:
    return Job(
        tenant_id=batch.tenant_id,
        batch_id=batch.id,
        options=ImportOptions.model_validate(batch.options),
        region=region,
        created_by=batch.created_by,
        done=Totals.of(batch),
    )


async def _execute(
    db: Database,
    batch: ImportBatch,
    file: BinaryIO,
    size: int,
    progress: Progress | None = None,
) -> Totals | None:
    """Run a committed batch over ``file``, one transaction per chunk, continuing after its
    checkpoint; mark it completed, or failed with the reason. A failure past the start
    (the database went away, the worker was stopped) is re-raised for the task's retry, which
    continues from the checkpoint."""
    async with exclusive_run(db.engine, batch.id) as mine:
        if not mine:
            raise Conflict(
                f"Import {batch.id} is running in another process; follow its progress at "
                f"GET /v1/imports/{batch.id}."
            )
        return await _run_exclusively(db, batch, file, size, progress)


SUSPENDED = (
    "The tenant is suspended, so the import did not run (nothing of the file was written). "
    "Once the tenant is resumed, import the file again (the API asks for force=true for a "
    "file it has seen)."
)


async def _run_exclusively(
    db: Database, batch: ImportBatch, file: BinaryIO, size: int, progress: Progress | None
) -> Totals | None:
    tenant_id = batch.tenant_id
    async with db.tenant_session(tenant_id) as session:
        tenant = await get_tenant(session, tenant_id)
        if tenant.status is not TenantStatus.active:
            await ImportRepository(session).fail(batch.id, SUSPENDED)
            return None
        region = ImportOptions.model_validate(batch.options).default_country or tenant.country
        await ImportRepository(session).start(batch.id)
    job = _job(batch, region)
    try:
        opened = open_file(file, job.options, region)
    except UnreadableFile as exc:
        async with db.tenant_session(tenant_id) as session:
            await ImportRepository(session).fail(batch.id, str(exc))
        return None
    importer = Importer(job, opened, partial(db.tenant_session, tenant_id))
    try:
        totals = await importer.run(workers_for(size), progress)
    except Exception as exc:
        done = importer.totals.processed
        reason = f"The import stopped after row {done} ({type(exc).__name__}: {exc}); "
        async with db.tenant_session(tenant_id) as session:
            await ImportRepository(session).fail(batch.id, reason + "running it again continues.")
        raise
    async with db.tenant_session(tenant_id) as session:
        await ImportRepository(session).complete(batch.id, totals.processed)
    return totals


async def run_batch(db: Database, batch_id: UUID) -> Totals | None:
    """The worker's side: copy the stored file to a local temporary file and run the batch.
    Running it again after a failure continues from its checkpoint; a completed batch is left
    be."""
    async with db.system_session() as session:
        batch = await ImportRepository(session).batch_by_id(batch_id)
    if batch is None or batch.status is ImportStatus.completed:
        return None
    with tempfile.TemporaryFile() as local:
        async with db.tenant_session(batch.tenant_id) as session:
            repo, seq = ImportRepository(session), 0
            while (part := await repo.file_part(batch_id, seq)) is not None:
                local.write(part)
                seq += 1
        local.seek(0)
        return await _execute(db, batch, local, batch.file_size)


async def import_local(
    db: Database,
    tenant_id: UUID,
    file: BinaryIO,
    file_name: str,
    options: ImportOptions,
    *,
    force: bool = False,
    actor: Actor = SYSTEM,
    progress: Progress | None = None,
) -> ImportBatch:
    """The command line's side: the file is read where it is. Importing the same file again
    continues an unfinished batch of it (after a crash) instead of starting over."""
    sha256, size = digest(file)
    async with db.tenant_session(tenant_id) as session:
        region = await tenant_region(session, tenant_id, options.default_country)
        _probe(file, options, region)
        batch = await _earlier(session, tenant_id, sha256, force=force)
        if batch is None:
            name = os.path.basename(file_name)
            batch = await _new_batch(session, tenant_id, file, name, sha256, size, options, actor)
    await _execute(db, batch, file, size, progress)
    async with db.tenant_session(tenant_id) as session:
        return await get(session, tenant_id, batch.id)


async def get(session: AsyncSession, tenant_id: UUID, batch_id: UUID) -> ImportBatch:
    batch = await ImportRepository(session).get_batch(tenant_id, batch_id)
    if batch is None:
        raise NotFound(f"No import {batch_id} in this tenant; GET /v1/imports lists them.")
    return batch


async def list_batches(
    session: AsyncSession, tenant_id: UUID, params: PageParams
) -> Page[ImportBatchRead]:
    found = await ImportRepository(session).list_page(tenant_id, params)
    return Page(items=[to_read(b) for b in found.items], next_cursor=found.next_cursor)


async def rejected_csv(session: AsyncSession, tenant_id: UUID, batch_id: UUID) -> tuple[str, str]:
    """The batch's rejected and skipped rows as CSV (line, status, reason, the row as it was),
    with the file name to download it as."""
    batch = await get(session, tenant_id, batch_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "status", "reason", "row"])
    for issue in await ImportRepository(session).issues(batch.id):
        writer.writerow([issue.line, issue.kind.value, issue.reason, issue.raw])
    return f"import-{batch.id}-rejected.csv", out.getvalue()


ERASED = "[erased]"
FILE_DROPPED = (
    " Its stored file was dropped when a person was erased: import the file again to finish."
)


async def forget_person(session: AsyncSession, tenant_id: UUID, person: ErasedPerson) -> None:
    """Erasure's reach into imports, in the erasure's transaction. Rejected and skipped rows
    holding the person's number or email are redacted (line and kind kept, so the counts
    still add up). Stored files cannot be searched reliably (a row may straddle two parts, a
    number may be spelled any way), so every stored file a batch no longer reads, that of a
    failed batch, is dropped; a pending or running batch drops its file when it completes,
    and any row of the person it imports is flagged by the erased number's hash."""
    repo = ImportRepository(session)
    digits = national_digits(person.phone_e164) if person.phone_e164 else None
    if digits or person.email:
        await repo.redact_issues(tenant_id, digits, person.email, ERASED)
    await repo.drop_failed_files(tenant_id, FILE_DROPPED)


def to_read(batch: ImportBatch) -> ImportBatchRead:
    total = batch.total_rows
    done = batch.processed_rows
    progress = (
        1.0 if batch.status is ImportStatus.completed else min(done / total, 1.0) if total else 0.0
    )
    seconds = (
        (batch.completed_at - batch.started_at).total_seconds()
        if batch.completed_at and batch.started_at
        else None
    )
    return ImportBatchRead(
        id=batch.id,
        file_name=batch.file_name,
        file_sha256=batch.file_sha256,
        file_size=batch.file_size,
        status=batch.status,
        total_rows=total,
        processed_rows=done,
        progress=progress,
        counts=ImportCounts.of(batch),
        options=batch.options,
        error=batch.error,
        created_at=batch.created_at,
        started_at=batch.started_at,
        completed_at=batch.completed_at,
        seconds=seconds,
    )
