"""The import pipeline: read records, normalize them (in a process pool for large files),
drop in-file duplicates, and write each chunk with COPY and one set-based merge.

Each chunk is written in one transaction together with the batch's checkpoint (records done)
and counts, so a run that dies leaves whole chunks only, and a re-run continues after the last
one. Records before the checkpoint are still read and normalized on a re-run: the in-file
duplicate check needs every earlier number, and it is cheap next to writing.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import multiprocessing
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import BinaryIO
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.imports import repository
from herald.imports.models import IssueKind
from herald.imports.normalize import ChunkResult, MappingError, RowSpec, map_header, normalize_chunk
from herald.imports.reading import Layout, UnreadableFile, detect_layout, open_text, records
from herald.imports.schemas import ImportOptions

CHUNK_ROWS = 20_000
"""Records per transaction: large enough that per-statement costs vanish, small enough that
the chunks in flight (normalizing, queued, writing) stay well under 100 MB."""
Records = list[tuple[int, list[str]]]
SessionScope = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Progress = Callable[["Totals"], Awaitable[None]]


@dataclass
class Totals:
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    consent_kept: int = 0

    def as_counts(self) -> dict[str, int]:
        return {
            "processed": self.processed,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "consent_kept": self.consent_kept,
        }


@dataclass(frozen=True)
class Job:
    """One batch's run: where to write, with which options, from which checkpoint."""

    tenant_id: UUID
    batch_id: UUID
    options: ImportOptions
    region: str | None
    actor: str | None
    done: Totals = field(default_factory=Totals)
    """What earlier runs of the batch committed: the checkpoint and the counts so far."""


@dataclass
class Opened:
    layout: Layout
    spec: RowSpec
    rows: Iterator[tuple[int, list[str]]]
    text: io.TextIOWrapper

    def release(self) -> None:
        """Hand the binary file back to its owner (a text wrapper closes it when collected)."""
        self.text.detach()


def open_file(file: BinaryIO, options: ImportOptions, region: str | None) -> Opened:
    """Choose encoding and delimiter, map the header. Raises ``UnreadableFile`` with the reason
    when nothing of the file can be imported."""
    layout = detect_layout(file, options.encoding, options.delimiter)
    text = open_text(file, layout)
    try:
        header, rows = records(text, layout)
        columns, custom = map_header(header, options.mapping)
    except (UnreadableFile, MappingError) as exc:
        text.detach()
        raise UnreadableFile(str(exc)) from exc
    channel = options.consent_channel.value if options.consent_channel else None
    status = options.consent_status.value if options.consent_status else None
    spec = RowSpec(
        columns=columns,
        custom=custom,
        default_region=region,
        tags=tuple(options.tags),
        sms_status=status if channel == "sms" else None,
        whatsapp_status=status if channel == "whatsapp" else None,
    )
    first = list(itertools.islice(rows, 1))
    if not first:
        text.detach()
        raise UnreadableFile("The file has a header but no rows: there is nothing to import.")
    return Opened(layout, spec, itertools.chain(first, rows), text)


@dataclass
class _Chunk:
    records: Records
    end: int
    """Records read up to and including this chunk."""
    delimiter: str
    rows: list[str] = field(default_factory=list)
    issues: list[tuple[int, IssueKind, str, str]] = field(default_factory=list)
    _by_line: dict[int, list[str]] | None = None

    def report(self, line: int, kind: IssueKind, reason: str) -> None:
        """Record an issue with the row as CSV text again, for the rejected-rows download."""
        if self._by_line is None:
            self._by_line = dict(self.records)
        out = io.StringIO()
        csv.writer(out, delimiter=self.delimiter, lineterminator="").writerow(self._by_line[line])
        self.issues.append((line, kind, reason, out.getvalue()))


class Importer:
    """Runs one file through the pipeline; ``seen`` holds every number kept so far (E.164
    digits as an integer, half the memory of the string → line), the in-file duplicate
    check."""

    def __init__(self, job: Job, opened: Opened, scope: SessionScope) -> None:
        self.job = job
        self.opened = opened
        self.scope = scope
        self.seen: dict[int, int] = {}
        self.totals = replace(job.done)

    async def run(self, workers: int, progress: Progress | None = None) -> Totals:
        """Read and normalize ahead while a writer task writes the chunks, in order: the
        database merging one chunk and Python preparing the next overlap."""
        queue: asyncio.Queue[_Chunk | None] = asyncio.Queue(maxsize=1)
        writer = asyncio.create_task(self._writer(queue, progress))
        try:
            async with _executor(workers) as executor:
                async for chunk in self._normalized(executor, ahead=workers + 1):
                    if chunk.end > self.job.done.processed:
                        await _put(queue, chunk, writer)
            await _put(queue, None, writer)
            await writer
        finally:
            writer.cancel()
            self.opened.release()
        return self.totals

    async def _writer(self, queue: asyncio.Queue[_Chunk | None], progress: Progress | None) -> None:
        while (chunk := await queue.get()) is not None:
            await self._write(chunk)
            if progress is not None:
                await progress(self.totals)

    async def _normalized(self, executor: Executor | None, ahead: int) -> AsyncIterator[_Chunk]:
        """Chunks in file order, each deduplicated, with up to ``ahead`` chunks normalizing
        while the previous one is written (memory stays bounded by that)."""
        pending: deque[tuple[_Chunk, asyncio.Future[ChunkResult]]] = deque()
        end = 0
        while records := list(itertools.islice(self.opened.rows, CHUNK_ROWS)):
            end += len(records)
            chunk = _Chunk(records, end, self.opened.layout.delimiter)
            pending.append((chunk, self._submit(executor, records)))
            while len(pending) >= ahead:
                yield self._dedupe(*await _pop(pending))
        while pending:
            yield self._dedupe(*await _pop(pending))

    def _submit(self, executor: Executor | None, records: Records) -> asyncio.Future[ChunkResult]:
        if executor is None:
            done: asyncio.Future[ChunkResult] = asyncio.get_running_loop().create_future()
            done.set_result(normalize_chunk(self.opened.spec, records))
            return done
        return asyncio.get_running_loop().run_in_executor(
            executor, normalize_chunk, self.opened.spec, records
        )

    def _dedupe(self, chunk: _Chunk, result: ChunkResult) -> _Chunk:
        for line, reason in result.rejected:
            chunk.report(line, IssueKind.rejected, reason)
        for line, phone, copy_line in result.rows:
            first = self.seen.setdefault(int(phone[1:]), line)
            if first == line:
                chunk.rows.append(copy_line)
            else:
                chunk.report(
                    line, IssueKind.skipped, f"duplicate of line {first} (same phone {phone})"
                )
        return chunk

    async def _write(self, chunk: _Chunk) -> None:
        job, totals = self.job, self.totals
        async with self.scope() as session:
            if chunk.rows:
                await repository.stage(session, chunk.rows)
                for line, reason in await repository.reject_taken_emails(session, job.tenant_id):
                    chunk.report(line, IssueKind.rejected, reason)
                merged = await repository.merge(
                    session,
                    job.tenant_id,
                    job.batch_id,
                    update_existing=job.options.update_existing,
                    consent=self.opened.spec.sets_consent,
                    consent_source=job.options.consent_source or "import",
                    actor=job.actor,
                )
                await repository.unstage(session)
                totals.created += merged.created
                totals.updated += merged.updated
                totals.consent_kept += merged.consent_kept
                for line in merged.skipped_lines:
                    chunk.report(
                        line, IssueKind.skipped, "the contact exists and update_existing is false"
                    )
            totals.processed = chunk.end
            totals.skipped += sum(1 for i in chunk.issues if i[1] is IssueKind.skipped)
            totals.rejected += sum(1 for i in chunk.issues if i[1] is IssueKind.rejected)
            await repository.add_issues(session, job.tenant_id, job.batch_id, chunk.issues)
            await repository.advance(session, job.batch_id, totals.as_counts())


async def _put(
    queue: asyncio.Queue[_Chunk | None], chunk: _Chunk | None, writer: asyncio.Task[None]
) -> None:
    """Hand a chunk to the writer; if the writer failed, raise its error instead of waiting
    forever for room in the queue."""
    put = asyncio.ensure_future(queue.put(chunk))
    await asyncio.wait({put, writer}, return_when=asyncio.FIRST_COMPLETED)
    if not put.done():
        put.cancel()
    if writer.done():
        writer.result()


async def _pop(
    pending: deque[tuple[_Chunk, asyncio.Future[ChunkResult]]],
) -> tuple[_Chunk, ChunkResult]:
    chunk, future = pending.popleft()
    return chunk, await future


@asynccontextmanager
async def _executor(workers: int) -> AsyncIterator[Executor | None]:
    """A process pool when more than one worker is asked for; spawned, not forked, because the
    parent holds database connections and an event loop."""
    if workers <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
