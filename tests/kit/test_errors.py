"""Every error path answers problem JSON with the request id, wherever it was raised."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import Depends, FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from herald.app import create_app
from herald.kit.database import Database
from herald.settings import Settings
from tests.conftest import TenantFixture


class Broken(RuntimeError):
    """A bug nobody handles."""


async def _broken_dependency() -> None:
    raise Broken("in a dependency")


class BrokenMiddleware:
    """A middleware of the app's stack that fails on one path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/broken/middleware":
            raise Broken("in a middleware")
        await self.app(scope, receive, send)


def broken_app(settings: Settings, db: Database) -> FastAPI:
    app = create_app(settings.model_copy(update={"log_json": True}), db)
    app.user_middleware.append(Middleware(BrokenMiddleware))  # innermost: inside the request id

    @app.get("/broken/route")
    async def route() -> None:
        raise Broken("in a route")

    @app.get("/broken/dependency", dependencies=[Depends(_broken_dependency)])
    async def dependency() -> None:
        return None

    return app


@pytest_asyncio.fixture
async def broken(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=broken_app(settings, db), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def json_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("where", ["route", "dependency", "middleware"])
async def test_an_unhandled_exception_is_a_logged_problem(
    broken: httpx.AsyncClient, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await broken.get(f"/broken/{where}", headers={"X-Request-ID": f"bug-{where}"})
    body = assert_problem(response, 500)
    assert "in a" not in body["detail"], "the failure's own message does not leak"
    assert "request_id" in body["detail"]
    lines = json_lines(capsys.readouterr().err)
    [failure] = [line for line in lines if line["event"] == "unhandled exception"]
    assert failure["level"] == "error"
    assert failure["request_id"] == f"bug-{where}"
    assert "Traceback" in failure["exception"] and f"in a {where}" in failure["exception"]
    [request] = [line for line in lines if line["event"] == "request"]
    assert request["level"] == "error" and request["status"] == 500


async def test_starlette_errors_are_problems(client: httpx.AsyncClient) -> None:
    missing = assert_problem(await client.get("/no/such/route"), 404)
    assert "No route matches GET /no/such/route" in missing["detail"]
    assert_problem(await client.delete("/healthz"), 405)


class TestMalformedJson:
    async def test_names_line_and_column(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        response = await client.post(
            "/v1/contacts",
            content=b'{\n  "phone": "+14155552671",\n  "first_name": oops\n}',
            headers={**tenant.headers, "Content-Type": "application/json"},
        )
        body = assert_problem(response, 422)
        assert body["detail"].startswith("The body is not valid JSON: Expecting value at line 3")
        assert "column 17" in body["detail"]
        assert body["errors"] == []

    async def test_on_one_line(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.post(
            "/v1/contacts",
            content=b'{"phone": }',
            headers={**tenant.headers, "Content-Type": "application/json"},
        )
        body = assert_problem(response, 422)
        assert "at line 1 column 11" in body["detail"]
        assert '"10"' not in response.text


async def test_a_body_that_is_not_utf8_says_so(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/contacts",
        content=b'{"phone": "\xff"}',
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(response, 400)
    assert body["detail"].startswith("The body is not UTF-8 text (invalid start byte at byte 11)")
