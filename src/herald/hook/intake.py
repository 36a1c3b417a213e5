"""Group commit for the accept path: callbacks that arrive together are stored together.

Every request hands its verified callback to its process's ``Intake`` and waits. A writer
takes everything waiting (up to ``max_rows`` and ``max_bytes``), stores it with one INSERT
in one transaction, commits, and only then answers each waiting request; whatever arrived
meanwhile is the next group. A lone callback is written at once, so an idle server
adds no delay, while a busy one pays one statement and one commit for many callbacks instead
of a connection, three round trips and a commit each.

Nothing acknowledged is lost: a request is answered 200 only after its row is committed. If
the group's transaction fails, nothing of it is stored and every request of the group is
answered 503 so the provider retries, except for data a single callback brought (say an
over-long id): then the group is written again one callback at a time, so one bad callback
fails alone.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from herald.hook.repository import Incoming, Written, store_events
from herald.kit.database import Database

log = structlog.get_logger(__name__)

Outcome = Written | Exception
"""One callback's result: what the write did, or why it was not stored."""


@dataclass(frozen=True, slots=True)
class _Waiting:
    event: Incoming
    answer: asyncio.Future[Outcome]


class Intake:
    """The group-commit queue of one process and one database. Up to ``writers`` groups are
    written at once: while one commits, the next is already on its way, so requests do not
    move in lockstep behind a single commit. More writers make smaller groups, each paying a
    statement and a commit: two measured cheaper per callback than four, and faster than
    one."""

    def __init__(
        self,
        db: Database,
        *,
        writers: int = 2,
        max_rows: int = 500,
        max_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.db = db
        self.writers = writers
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._waiting: list[_Waiting] = []
        self._writing: set[asyncio.Task[None]] = set()

    async def store(self, event: Incoming) -> Outcome:
        """Store ``event`` with whatever else is waiting; returns once it is committed, or
        with the error that kept its group (or, for bad data, itself) from being stored."""
        answer: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(event, answer))
        if len(self._writing) < self.writers:
            self._writing.add(asyncio.create_task(self._write_all()))
        return await answer

    async def _write_all(self) -> None:
        """Write groups until nothing waits. Cancelled (the process stops), it cancels the
        requests of its group, and the last writer those still waiting, rather than leave
        them hanging."""
        group: list[_Waiting] = []
        try:
            while self._waiting:
                group = self._next_group()
                _answer(group, await self._write([w.event for w in group]))
        finally:
            # Leave the set now, not in a done callback: a callback queued from here on must
            # find room to start a writer, or it would wait for one that never comes.
            self._writing.discard(cast("asyncio.Task[None]", asyncio.current_task()))
            for waiting in group:
                waiting.answer.cancel()  # a no-op for those already answered
            if not self._writing:
                for waiting in self._waiting:
                    waiting.answer.cancel()
                self._waiting = []

    def _next_group(self) -> list[_Waiting]:
        """The oldest waiting callbacks within the caps (always at least one)."""
        size = count = 0
        for waiting in self._waiting[: self.max_rows]:
            size += len(waiting.event.payload)
            if count and size > self.max_bytes:
                break
            count += 1
        group, self._waiting = self._waiting[:count], self._waiting[count:]
        return group

    async def _write(self, events: Sequence[Incoming]) -> list[Outcome]:
        try:
            async with self.db.engine.begin() as connection:
                return list(await store_events(connection, events))
        except Exception as exc:
            if len(events) > 1 and _data_error(exc):
                log.warning("hooks.group_split", callbacks=len(events), error=str(exc))
                return [(await self._write([event]))[0] for event in events]
            log.exception("hooks.store_failed", callbacks=len(events))
            return [exc] * len(events)


def _data_error(exc: Exception) -> bool:
    """Whether a statement failed on the data it was given (one callback may be to blame), as
    opposed to the database itself failing (every callback would fail alike)."""
    return isinstance(exc, DBAPIError) and not (
        exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    )


def _answer(group: Sequence[_Waiting], outcomes: Sequence[Outcome]) -> None:
    for waiting, outcome in zip(group, outcomes, strict=True):
        if not waiting.answer.done():  # else its request went away; the row stands
            waiting.answer.set_result(outcome)


_INTAKES: weakref.WeakKeyDictionary[Database, Intake] = weakref.WeakKeyDictionary()


def intake_of(db: Database) -> Intake:
    """The process's intake for ``db``, made on first use."""
    intake = _INTAKES.get(db)
    if intake is None:
        intake = _INTAKES[db] = Intake(db)
    return intake
