"""The simulator's engine: decides each send's fate, records accepted messages, and reports
their progress (sent → delivered/undelivered → read) to callback URLs in the background.

Receipts go out from tasks sharing one aiohttp session, at most ``CONCURRENCY`` at a time, so
a send's answer never waits for them. A receipt the receiver refuses is retried a few times
with back-off, then logged and dropped, as a real provider would eventually give up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import structlog

from herald.sim.state import SenderControl, SimMessage, SimState, Verdict

CONCURRENCY = 64
ATTEMPTS = 4
BACKOFF_SECONDS = (0.2, 1.0, 3.0)
POST_TIMEOUT = aiohttp.ClientTimeout(total=10)

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One callback to post: where, what, and the headers (signature, content type)."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class ReceiptFormat(Protocol):
    """A provider's receipt wire format: the callback for ``message`` reaching ``status``
    (sent, delivered, undelivered, read), or ``None`` when no callback is registered."""

    def __call__(
        self, message: SimMessage, status: str, control: SenderControl
    ) -> Delivery | None: ...


class Courier:
    """Posts callbacks from background tasks over one shared session."""

    def __init__(self, concurrency: int = CONCURRENCY) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        task = asyncio.get_running_loop().create_task(work())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def post(self, delivery: Delivery) -> bool:
        for attempt in range(ATTEMPTS):
            if await self._post_once(delivery):
                return True
            if attempt < len(BACKOFF_SECONDS):
                await asyncio.sleep(BACKOFF_SECONDS[attempt])
        log.warning("sim.callback_dropped", url=delivery.url, attempts=ATTEMPTS)
        return False

    async def post_quietly(self, delivery: Delivery) -> None:
        """``post`` for a background task, which has no use for the outcome."""
        await self.post(delivery)

    async def _post_once(self, delivery: Delivery) -> bool:
        async with self._slots:
            try:
                async with self._client().post(
                    delivery.url, data=delivery.body, headers=delivery.headers
                ) as response:
                    await response.read()
                    return response.status < 300
            except (TimeoutError, aiohttp.ClientError):
                return False

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=POST_TIMEOUT)
        return self._session

    async def drain(self) -> None:
        """Wait for every pending callback (tests and benchmarks)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._session is not None:
            await self._session.close()


class Simulator:
    """State + courier; the wire modules call ``decide``, ``hold`` and ``accept``."""

    def __init__(self, state: SimState | None = None) -> None:
        self.state = state or SimState()
        self.courier = Courier()

    def decide(self, sender: str) -> Verdict:
        return self.state.decide(sender)

    async def hold(self, sender: str, verdict: Verdict) -> None:
        """Wait as the sender's controls say: the added delay, or a timeout's hang."""
        control = self.state.control(sender)
        wait = control.hang_ms if verdict is Verdict.timeout else control.delay_ms
        if wait:
            await asyncio.sleep(wait / 1000)

    def accept(self, message: SimMessage, receipts: ReceiptFormat, *, can_read: bool) -> None:
        """Record ``message`` and schedule its receipts."""
        self.state.record(message)
        control = self.state.control(message.sender)
        final = "undelivered" if self.state.draw(control.undelivered_share) else "delivered"
        statuses = ["sent", final]
        if can_read and final == "delivered" and self.state.draw(control.read_share):
            statuses.append("read")
        if not (message.callback_url or control.callback_url):
            message.status = statuses[-1]  # nobody to tell: no task, the send stays cheap
            return

        async def report() -> None:
            for status in statuses:
                await asyncio.sleep(control.receipt_delay_ms / 1000)
                message.status = status
                delivery = receipts(message, status, control)
                if delivery is not None:
                    await self.courier.post(delivery)

        self.courier.spawn(report)

    async def aclose(self) -> None:
        await self.courier.aclose()
