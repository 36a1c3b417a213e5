"""Errors that carry their HTTP status, rendered as RFC 9457 problem details.

Services raise these; routes never translate exceptions by hand. Every ``detail`` says what to
fix, in words a user can act on.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
FASTAPI_UNPARSED_BODY = "There was an error parsing the body"
_TITLES = {413: "Content too large"}
"""RFC 9110's names where Python's ``HTTPStatus`` still has older ones."""


class HeraldError(Exception):
    status: int = 500
    title: str = "Internal error"

    def __init__(self, detail: str, *, status: int | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        self.extra = extra


class BadRequest(HeraldError):
    status, title = 400, "Bad request"


class Unauthorized(HeraldError):
    status, title = 401, "Unauthorized"


class Forbidden(HeraldError):
    status, title = 403, "Forbidden"


class NotFound(HeraldError):
    status, title = 404, "Not found"


class Conflict(HeraldError):
    status, title = 409, "Conflict"


class Gone(HeraldError):
    status, title = 410, "Gone"


class Unprocessable(HeraldError):
    status, title = 422, "Unprocessable content"


class TooManyRequests(HeraldError):
    status, title = 429, "Too many requests"


def problem(request: Request, status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if "retry_after" in extra:
        headers = {**(headers or {}), "Retry-After": str(extra["retry_after"])}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _describe_validation(errors: list[Any], body: Any) -> tuple[str, list[dict[str, Any]]]:
    invalid_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if invalid_json is not None:
        return _describe_invalid_json(invalid_json, body), []
    fields = []
    for err in errors:
        location = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        fields.append({"field": location, "message": err.get("msg", "invalid")})
    summary = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in fields[:5])
    return f"The request is invalid. {summary}", fields


def _describe_invalid_json(error: dict[str, Any], body: Any) -> str:
    """FastAPI reports a JSON syntax error as a character offset in the error's location; a
    person needs the line and column, and no field (the body never became fields)."""
    reason = str(error.get("ctx", {}).get("error", "syntax error"))
    position = error.get("loc", ("body", None))[-1]
    if isinstance(position, int) and isinstance(body, str):
        line = body.count("\n", 0, position) + 1
        column = position - (body.rfind("\n", 0, position) + 1) + 1
        reason = f"{reason} at line {line} column {column}"
    return (
        f"The body is not valid JSON: {reason}. Send a JSON document with Content-Type "
        "application/json."
    )


def _unreadable_body(cause: BaseException | None) -> str:
    """FastAPI's words for a body it could not decode say nothing a caller can act on."""
    if isinstance(cause, UnicodeDecodeError):
        return (
            f"The body is not UTF-8 text ({cause.reason} at byte {cause.start}): send JSON "
            "encoded as UTF-8."
        )
    return (
        "The body cannot be read: send JSON as UTF-8 text with Content-Type application/json, "
        "or a well-formed multipart form where the operation takes a file."
    )


def internal_error(request: Request) -> JSONResponse:
    """What an unexpected exception answers: no detail of the failure leaks; the request id
    finds it in the logs."""
    return problem(
        request,
        500,
        "Internal error",
        "The server failed to handle this request. Retry later; if it keeps failing, report "
        "the request_id.",
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HeraldError)
    async def _herald(request: Request, exc: HeraldError) -> JSONResponse:
        return problem(request, exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, fields = _describe_validation(list(exc.errors()), exc.body)
        return problem(request, 422, "Unprocessable content", detail, errors=fields)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        """PostgreSQL refused a value the request carried (a NUL character, a number out of
        range): the caller's input, so a 422 — and the values are not logged."""
        return problem(
            request,
            422,
            "Unprocessable content",
            "A value in the request cannot be stored: text must not contain NUL (\\u0000) "
            "characters, and numbers and dates must be within range.",
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        """Services check uniqueness first and answer with a precise 409; this covers the race
        in which two requests pass that check together and the database refuses the second."""
        return problem(
            request,
            409,
            "Conflict",
            "The request conflicts with a record created at the same moment (a duplicate name, "
            "number or address); read the current state and try again.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = _TITLES.get(exc.status_code) or HTTPStatus(exc.status_code).phrase
        detail = str(exc.detail) if exc.detail else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No route matches {request.method} {request.url.path}; see /docs."
        if exc.status_code == 400 and detail == FASTAPI_UNPARSED_BODY:
            detail = _unreadable_body(exc.__cause__)
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}; see /docs."
        return problem(request, exc.status_code, title, detail)
