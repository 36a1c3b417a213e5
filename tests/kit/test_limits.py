"""Request bodies past their route's limit answer 413 before the excess is read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from herald.app import create_app
from herald.kit.database import Database
from herald.kit.limits import BodyLimits
from herald.settings import Settings
from tests.conftest import TenantFixture

CHUNK = 64 * 1024


class Sender:
    """A request body streamed in chunks, counting how many the server pulled."""

    def __init__(self, total: int, head: bytes = b"") -> None:
        self.total = total
        self.head = head
        self.sent = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.head:
            yield self.head
        while self.sent < self.total:
            self.sent += CHUNK
            yield b"x" * CHUNK


def limited_client(settings: Settings, db: Database, **limits: object) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update=limits), db)
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://herald.test")


def assert_too_large(response: httpx.Response, limit_text: str) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]
    body = response.json()
    assert body["title"] == "Content too large"
    assert limit_text in body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]


async def test_a_declared_length_past_the_limit_is_refused_unread(
    client: httpx.AsyncClient,
) -> None:
    """200 MB announced without credentials: answered before a single chunk is pulled."""
    sender = Sender(200 * 1024 * 1024)
    response = await client.post(
        "/v1/contacts",
        content=sender.chunks(),
        headers={"Content-Length": str(sender.total), "Content-Type": "application/json"},
    )
    assert_too_large(response, "1 MiB")
    assert sender.sent == 0


async def test_a_streamed_body_stops_being_read_at_the_limit(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    sender = Sender(50 * 1024 * 1024)
    response = await client.post(
        "/v1/contacts",
        content=sender.chunks(),
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_too_large(response, "1 MiB")
    assert sender.sent <= 1024 * 1024 + CHUNK


async def test_each_route_class_has_its_own_limit(settings: Settings, db: Database) -> None:
    limits = {"max_body_bytes": 1024, "body_limits": {"/v1/imports": 4096, "/v1/hooks/": 512}}
    async with limited_client(settings, db, **limits) as client:
        json_call = await client.post("/v1/contacts", content=b"x" * 2048)
        upload = await client.post("/v1/imports", content=b"x" * 2048)
        upload_too_big = await client.post("/v1/imports", content=b"x" * 8192)
        hook = await client.post("/v1/hooks/sim/anything", content=b"x" * 1000)
    assert_too_large(json_call, "1 KiB")
    assert upload.status_code == 401, "within its limit, the upload reaches authentication"
    assert_too_large(upload_too_big, "4 KiB")
    assert_too_large(hook, "512 bytes")


async def test_an_upload_past_its_limit_is_refused_while_streaming(
    settings: Settings, db: Database, tenant: TenantFixture
) -> None:
    async with limited_client(settings, db, body_limits={"/v1/imports": 256 * 1024}) as client:
        part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        sender = Sender(10 * 1024 * 1024, head=part)
        response = await client.post(
            "/v1/imports",
            content=sender.chunks(),
            headers={**tenant.headers, "Content-Type": "multipart/form-data; boundary=b"},
        )
    assert_too_large(response, "256 KiB")
    assert sender.sent <= 256 * 1024 + CHUNK


async def test_a_body_within_the_limit_is_served(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    response = await client.post(
        "/v1/contacts", json={"phone": "+14155552671"}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/imports", 100),
        ("/v1/imports/x", 100),
        ("/v1/hooks/a", 10),
        ("/v1/contacts", 5),
        ("/healthz", 1),
    ],
)
def test_the_longest_prefix_wins(path: str, expected: int) -> None:
    limits = BodyLimits(1, {"/v1/": 5, "/v1/imports": 100, "/v1/hooks/": 10})
    assert limits.of(path) == expected
