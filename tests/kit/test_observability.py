from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
import structlog

from herald.app import create_app
from herald.kit.database import Database
from herald.kit.observability import UVICORN_LOGGERS, configure_logging, use_json_logs
from herald.settings import Settings
from tests.conftest import TenantFixture


@pytest_asyncio.fixture
async def json_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A second app in the same process, logging JSON: its metrics must not clash."""
    app = create_app(settings.model_copy(update={"log_json": True}), db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
        yield c


def log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


class TestRequestId:
    async def test_generated(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert UUID(response.headers["x-request-id"])

    async def test_sane_incoming_id_is_kept(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "edge-42.abc:1"})
        assert response.headers["x-request-id"] == "edge-42.abc:1"

    @pytest.mark.parametrize("incoming", ["has spaces in it", "x" * 129, "semi;colon"])
    async def test_odd_incoming_id_is_replaced(
        self, client: httpx.AsyncClient, incoming: str
    ) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": incoming})
        assert UUID(response.headers["x-request-id"])

    async def test_in_problem_details(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/tenant", headers={"X-Request-ID": "trace-7"})
        assert response.status_code == 401
        assert response.json()["request_id"] == "trace-7"
        assert response.headers["x-request-id"] == "trace-7"


class TestRequestLog:
    async def test_one_json_line_per_request(
        self,
        json_client: httpx.AsyncClient,
        tenant: TenantFixture,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        capsys.readouterr()
        await json_client.get("/v1/tenant", headers={**tenant.headers, "X-Request-ID": "log-1"})
        [line] = [e for e in log_lines(capsys.readouterr().err) if e["event"] == "request"]
        assert line["request_id"] == "log-1"
        assert line["method"] == "GET"
        assert line["route"] == "/v1/tenant"
        assert line["status"] == 200
        assert line["tenant_id"] == str(tenant.id)
        assert line["duration_ms"] >= 0
        assert line["level"] == "info"

    async def test_paths_with_personal_data_are_not_logged(
        self,
        json_client: httpx.AsyncClient,
        tenant: TenantFixture,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        capsys.readouterr()
        await json_client.delete("/v1/dnc/+14155550188", headers=tenant.headers)
        [line] = [e for e in log_lines(capsys.readouterr().err) if e["event"] == "request"]
        assert line["route"] == "/v1/dnc/{phone}"
        assert "4155550188" not in str(line)

    def test_json_unless_a_terminal_or_forced(self, settings: Settings) -> None:
        assert use_json_logs(settings.model_copy(update={"log_json": True}))
        assert not use_json_logs(settings.model_copy(update={"log_json": False}))
        assert use_json_logs(settings.model_copy(update={"log_json": None}))  # pytest: no TTY


class TestMetrics:
    async def test_counts_by_route_template(self, json_client: httpx.AsyncClient) -> None:
        await json_client.get("/healthz")
        await json_client.delete(f"/v1/api-keys/{uuid4()}")
        await json_client.get(f"/nowhere/{uuid4()}")
        response = await json_client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        body = response.text
        assert 'herald_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in body
        assert 'route="/v1/api-keys/{key_id}",status="401"} 1.0' in body
        assert 'route="<unmatched>",status="404"} 1.0' in body
        assert 'route="/metrics"' in (await json_client.get("/metrics")).text
        assert "herald_http_request_duration_seconds_bucket" in body
        assert "/nowhere/" not in body

    async def test_not_in_the_schema(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert "/metrics" not in paths
        assert "/v1/audit-log" in paths


class TestUvicornLogs:
    @pytest.fixture
    def uvicorn_loggers(self) -> Iterator[None]:
        """uvicorn's own setup, as ``uvicorn.run`` leaves it before the app is built: a
        handler on its error and access loggers, or none and no propagation when the access
        log is off. Other tests (and Alembic's logging setup) may have disabled them or
        raised their level: both are reset, and all is restored afterwards."""
        loggers = [logging.getLogger(name) for name in UVICORN_LOGGERS]
        saved = [(lg.handlers, lg.propagate, lg.disabled, lg.level) for lg in loggers]
        for logger in loggers:
            logger.handlers = [logging.StreamHandler()]
            logger.propagate, logger.disabled = False, False
            logger.setLevel(logging.INFO)
        yield
        for logger, (handlers, propagate, disabled, level) in zip(loggers, saved, strict=True):
            logger.handlers, logger.propagate, logger.disabled = handlers, propagate, disabled
            logger.setLevel(level)

    @pytest.mark.usefixtures("uvicorn_loggers")
    def test_their_lines_are_ours(
        self, settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging(settings.model_copy(update={"log_json": True}))
        capsys.readouterr()
        logging.getLogger("uvicorn.error").error("Started server process [%d]", 7)
        logging.getLogger("uvicorn.access").info('%s - "%s %s"', "10.0.0.1", "GET", "/healthz")
        error, access = log_lines(capsys.readouterr().err)
        assert error["event"] == "Started server process [7]"
        assert error["level"] == "error" and error["logger"] == "uvicorn.error"
        assert access["event"] == '10.0.0.1 - "GET /healthz"'
        assert access["logger"] == "uvicorn.access"

    @pytest.mark.usefixtures("uvicorn_loggers")
    def test_a_turned_off_access_log_stays_off(
        self, settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        logging.getLogger("uvicorn.access").handlers = []
        configure_logging(settings.model_copy(update={"log_json": True}))
        capsys.readouterr()
        logging.getLogger("uvicorn.access").info("GET /healthz")
        assert log_lines(capsys.readouterr().err) == []

    def test_a_traceback_is_a_field(
        self, settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging(settings.model_copy(update={"log_json": True}))
        capsys.readouterr()
        try:
            raise ValueError("boom")
        except ValueError:
            structlog.get_logger("herald.test").exception("failed", job="x")
        [line] = log_lines(capsys.readouterr().err)
        assert line["level"] == "error" and line["job"] == "x"
        assert line["exception"].startswith("Traceback") and "ValueError: boom" in line["exception"]
