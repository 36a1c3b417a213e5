"""A load generator's HTTP/1.1 client: keep-alive connections that write requests built
before the clock starts and read each answer's status and body.

A general client (aiohttp) spends about 0.3 ms of CPU per request building and parsing
messages. On a two-core machine that is CPU the server under test does not get: a benchmark
whose client costs as much as the server measures the client. This one costs a few
microseconds: a request is a ready ``bytes``, an answer is a status line, headers up to the
blank line, and ``Content-Length`` bytes of body (uvicorn always sends one for these
endpoints; a chunked answer is refused rather than misread).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

HEADERS_END = b"\r\n\r\n"
LENGTH = b"\r\ncontent-length:"


def request(
    method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    """One HTTP/1.1 request to ``url`` as bytes on the wire (keep-alive is HTTP/1.1's
    default)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str) -> Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request; its answer's status and body."""
        self.writer.write(raw)
        head = await self.reader.readuntil(HEADERS_END)
        status = int(head[9:12])
        lowered = head.lower()
        at = lowered.find(LENGTH)
        if at < 0:
            raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
        length = int(lowered[at + len(LENGTH) : lowered.index(b"\r\n", at + 2)])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def send_all(url: str, requests: Iterable[bytes], concurrency: int) -> list[float]:
    """Send every request over ``concurrency`` connections to ``url``'s server, each as soon
    as a connection is free; the seconds each took. Any status but 200 fails the run (a
    benchmark that counts errors as work means nothing)."""
    remaining: Iterator[bytes] = iter(requests)
    latencies: list[float] = []

    async def lane() -> None:
        connection = await Connection.open(url)
        try:
            for raw in remaining:
                started = time.perf_counter()
                status, body = await connection.exchange(raw)
                if status != 200:
                    raise RuntimeError(f"{raw[:60]!r}… answered {status}: {body[:300]!r}")
                latencies.append(time.perf_counter() - started)
        finally:
            connection.close()

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return latencies
