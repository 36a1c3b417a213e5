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
import sys
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import (
    AbstractAsyncContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from dataclasses import dataclass, field
from typing import BinaryIO
from uuid import UUID

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.imports.dedupe import FirstLines, Ints, ints
from herald.imports.models import IssueKind
from herald.imports.normalize import (
    ChunkResult,
    MappingError,
    RowSpec,
    map_header,
    normalize_chunk,
    warm_up,
)
from herald.imports.reading import Layout, UnreadableFile, detect_layout, open_text, records
from herald.imports.repository import (
    EMAIL_INDEX,
    PHONE_INDEX,
    ImportRepository,
    MergeResult,
    clashed_index,
)
from herald.imports.schemas import ImportOptions, Totals
from herald.kit.collector import bulk_work, tune_process_for_bulk_work

CHUNK_ROWS = 20_000
"""Records per transaction: large enough that per-statement costs vanish, small enough that
the chunks in flight (normalizing, queued, writing) stay well under 100 MB."""
AHEAD = 1
"""Chunks normalizing while the earlier ones are deduplicated, queued and written: the
writers are the slow side, so more would only hold memory (each chunk in flight holds its
records, ~10 MB for 20,000 rows)."""
Records = list[tuple[int, list[str]]]
SessionScope = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Progress = Callable[[Totals], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    """One batch's run: where to write, with which options, from which checkpoint."""

    tenant_id: UUID
    batch_id: UUID
    options: ImportOptions
    region: str | None
    created_by: str | None
    """Who submitted the batch, as stored on it: the run's consent events name them."""
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
    seq: int = 0
    """Position among the chunks this run writes: they commit in that order."""
    check_emails: bool = False
    """Whether a row's email may repeat an earlier row's: then the merge is preceded by the
    email check in SQL."""
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
    """Runs one file through the pipeline; ``phones`` and ``emails`` remember the line of
    every number and email key kept so far: the in-file duplicate checks."""

    def __init__(self, job: Job, opened: Opened, scope: SessionScope) -> None:
        self.job = job
        self.opened = opened
        self.scope = scope
        self.phones = FirstLines()
        self.emails = FirstLines()
        self.no_emails_before = False
        """The tenant had no contact with an email when the run started."""
        self.new_only = True
        """No row has met an existing contact yet: chunks are inserted, not merged."""
        self.totals = job.done.model_copy()
        self.committed = asyncio.Condition()
        self.next_commit = 0
        """``seq`` of the chunk whose turn it is to commit."""

    async def run(self, workers: int, progress: Progress | None = None) -> Totals:
        """Large files (the ones given workers) run as bulk work; a small one inline in an
        API request leaves the server's collector alone."""
        with bulk_work() if workers > 1 else nullcontext():
            return await self._run(workers, progress)

    async def _run(self, workers: int, progress: Progress | None) -> Totals:
        """Read and normalize ahead while writer tasks write the chunks: the database merging
        chunks and Python preparing the next ones overlap. With a process pool, two writers
        merge two chunks at once on two connections (the merge is the slow step and one
        backend uses one core); they commit in file order, so the checkpoint stays exact."""
        async with self.scope() as session:
            self.no_emails_before = not await ImportRepository(session).has_emails(
                self.job.tenant_id
            )
        queue: asyncio.Queue[_Chunk | None] = asyncio.Queue(maxsize=1)
        count = 2 if workers > 1 else 1
        writers = {asyncio.create_task(self._writer(queue, progress)) for _ in range(count)}
        try:
            async with _executor(workers) as executor:
                seq = 0
                async for chunk in self._normalized(executor, ahead=AHEAD):
                    if chunk.end > self.job.done.processed:
                        chunk.seq, seq = seq, seq + 1
                        await _put(queue, chunk, writers)
            for _ in writers:
                await _put(queue, None, writers)
            await asyncio.gather(*writers)
        finally:
            for writer in writers:
                writer.cancel()
            # A writer waiting for its turn behind a failed one rolls back before we go on.
            await asyncio.gather(*writers, return_exceptions=True)
            self.opened.release()
        return self.totals

    async def _writer(self, queue: asyncio.Queue[_Chunk | None], progress: Progress | None) -> None:
        while (chunk := await queue.get()) is not None:
            await self._write(chunk, progress)

    async def _turn(self, chunk: _Chunk) -> None:
        """Wait until every earlier chunk of the run is committed."""
        async with self.committed:
            await self.committed.wait_for(lambda: self.next_commit == chunk.seq)

    async def _done(self) -> None:
        async with self.committed:
            self.next_commit += 1
            self.committed.notify_all()

    async def _normalized(self, executor: Executor | None, ahead: int) -> AsyncIterator[_Chunk]:
        """Chunks in file order, each deduplicated, with up to ``ahead`` chunks normalizing
        while the previous one is written (memory stays bounded by that)."""
        pending: deque[tuple[_Chunk, asyncio.Future[ChunkResult]]] = deque()
        end = 0
        while records := await asyncio.to_thread(self._read_chunk):
            end += len(records)
            chunk = _Chunk(records, end, self.opened.layout.delimiter)
            pending.append((chunk, self._submit(executor, records)))
            while len(pending) >= ahead:
                yield await asyncio.to_thread(self._dedupe, *await _pop(pending))
        while pending:
            yield await asyncio.to_thread(self._dedupe, *await _pop(pending))

    def _read_chunk(self) -> Records:
        return list(itertools.islice(self.opened.rows, CHUNK_ROWS))

    def _submit(self, executor: Executor | None, records: Records) -> asyncio.Future[ChunkResult]:
        if executor is None:
            done: asyncio.Future[ChunkResult] = asyncio.get_running_loop().create_future()
            done.set_result(normalize_chunk(self.opened.spec, records))
            return done
        return asyncio.get_running_loop().run_in_executor(
            executor, normalize_chunk, self.opened.spec, records
        )

    def _dedupe(self, chunk: _Chunk, result: ChunkResult) -> _Chunk:
        """Keep the first row of each number in the file; report the others."""
        for line, reason in result.rejected:
            chunk.report(line, IssueKind.rejected, reason)
        lines = ints(result.lines)
        first = self.phones.first_lines(ints(result.phones), lines)
        kept = first == lines
        for row in np.flatnonzero(~kept).tolist():
            reason = f"duplicate of line {first[row]} (same phone +{result.phones[row]})"
            chunk.report(result.lines[row], IssueKind.skipped, reason)
        chunk.rows = list(itertools.compress(result.copy_lines, kept.tolist()))
        repeat = self._emails_repeat(ints(result.email_keys)[kept], lines[kept])
        chunk.check_emails = repeat or result.unusual_emails
        return chunk

    def _emails_repeat(self, keys: Ints, lines: Ints) -> bool:
        """Whether a kept row's email may repeat an earlier row's (then the merge is preceded
        by the exact check in SQL)."""
        given = keys != 0
        return bool((self.emails.first_lines(keys[given], lines[given]) != lines[given]).any())

    async def _write(self, chunk: _Chunk, progress: Progress | None) -> None:
        """Stage and merge (concurrently with the other writer unless the email check must
        see every earlier chunk), then, in turn, count, checkpoint and commit."""
        job, totals = self.job, self.totals
        async with self.scope() as session:
            repo = ImportRepository(session)
            merged = None
            if chunk.rows:
                fast = self.no_emails_before and not chunk.check_emails
                if not fast:
                    await self._turn(chunk)
                await repo.stage(chunk.rows)
                if self.opened.spec.sets_consent or not self.job.options.update_existing:
                    await repo.analyze_staging()
                merged = await self._checked_merge(session, chunk, fast=fast)
                await repo.unstage()
            await self._turn(chunk)
            if merged is not None:
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
            await repo.add_issues(job.tenant_id, job.batch_id, chunk.issues)
            await repo.advance(job.batch_id, totals)
        if progress is not None:
            await progress(totals)
        await self._done()

    async def _checked_merge(
        self, session: AsyncSession, chunk: _Chunk, *, fast: bool
    ) -> MergeResult:
        """The merge, with two shortcuts taken while they can hold, each undone by rolling
        back to a savepoint when a unique index says it did not.

        Emails: the check that takes out rows whose email belongs to another contact joins
        the whole tenant on ``lower(email)``, which no index can serve under row-level
        security, so it is skipped (``fast``) when it cannot find anything: the tenant had no
        email when the run started and no earlier row of the file has the same email. If a
        contact written meanwhile takes an email, the merge runs again after the check, once
        every earlier chunk is committed so that it sees their rows.

        Numbers: until a row meets an existing contact, rows are inserted with a plain
        INSERT, which costs the database a sixth less than ``ON CONFLICT`` (no speculative
        insertion). A plain INSERT stops at the first unique index a row breaks, and an
        existing contact given with its own email breaks both, in an order PostgreSQL picks:
        any clash sends the chunk to the merge, which tells the cases apart. A clash on the
        number, or on an email once taken emails are out (not ``fast``), means an existing
        contact: the run merges from then on."""
        if not fast:
            await self._reject_taken_emails(session, chunk)
        new_only = self.new_only
        while True:
            try:
                async with session.begin_nested():
                    return await self._merge(session, new_only=new_only)
            except IntegrityError as exc:
                index = clashed_index(exc)
                if new_only and index in (PHONE_INDEX, EMAIL_INDEX):
                    new_only = False
                    if index == PHONE_INDEX or not fast:
                        self.new_only = False
                elif fast and index == EMAIL_INDEX:
                    fast = self.no_emails_before = False
                    await self._turn(chunk)
                    await self._reject_taken_emails(session, chunk)
                else:
                    raise

    async def _reject_taken_emails(self, session: AsyncSession, chunk: _Chunk) -> None:
        repo = ImportRepository(session)
        await repo.analyze_staging()
        for line, reason in await repo.reject_taken_emails(self.job.tenant_id):
            chunk.report(line, IssueKind.rejected, reason)

    async def _merge(self, session: AsyncSession, *, new_only: bool) -> MergeResult:
        job = self.job
        return await ImportRepository(session).merge(
            job.tenant_id,
            job.batch_id,
            update_existing=job.options.update_existing,
            consent=self.opened.spec.sets_consent,
            consent_source=job.options.consent_source or "import",
            actor_label=job.created_by,
            new_only=new_only,
        )


async def _put(
    queue: asyncio.Queue[_Chunk | None], chunk: _Chunk | None, writers: set[asyncio.Task[None]]
) -> None:
    """Hand a chunk to the writers; if a writer failed, raise its error instead of waiting
    forever for room in the queue (a writer that got its end marker is done, not failed)."""
    put = asyncio.ensure_future(queue.put(chunk))
    try:
        while not put.done():
            running = {w for w in writers if not w.done()}
            await asyncio.wait({put, *running}, return_when=asyncio.FIRST_COMPLETED)
            for writer in writers:
                if writer.done() and (writer.cancelled() or writer.exception() is not None):
                    writer.result()
    finally:
        if not put.done():
            put.cancel()


async def _pop(
    pending: deque[tuple[_Chunk, asyncio.Future[ChunkResult]]],
) -> tuple[_Chunk, ChunkResult]:
    chunk, future = pending.popleft()
    return chunk, await future


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """A spawned process runs the parent's main script again before its first task; for the
    command line that imports the whole application, seconds per process, while a worker
    needs only ``herald.imports.normalize``. A script without ``__file__`` is not re-run."""
    main = sys.modules["__main__"]
    path = main.__dict__.pop("__file__", None) if main.__spec__ is None else None
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path


@asynccontextmanager
async def _executor(workers: int) -> AsyncIterator[Executor | None]:
    """A process pool when more than one worker is asked for; spawned, not forked, because the
    parent holds database connections and an event loop."""
    if workers <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=tune_process_for_bulk_work,
    )
    try:
        with _main_script_hidden():
            for _ in range(workers):  # a process is started per task until there are enough
                pool.submit(warm_up)
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
