"""The OpenAPI document as a contract a generated client can trust.

FastAPI describes what a route returns when it succeeds; everything else is added here, by
rule, for every route at once — so a route written tomorrow is described like the others
without anyone remembering to:

- a stable, readable operation id (``contacts_list``, ``contacts_create``, ``channels_pause``)
  derived from the path and method, not from the Python function's name;
- the error responses the route can answer, derived from what it depends on (see
  ``error_statuses``), each a ``Problem`` in ``application/problem+json``;
- the ``X-Request-ID`` header on every response, and the minimum role of every authenticated
  operation (``x-minimum-role``);
- a 405 that carries ``Allow``, listing the methods of every route on that path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar, cast

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security.base import SecurityBase
from starlette.routing import compile_path

from herald.kit.context import Role
from herald.kit.errors import PROBLEM_JSON, problem
from herald.kit.pagination import Page
from herald.kit.ratelimit import RateLimiter

MINIMUM_ROLE = "herald_minimum_role"
"""The attribute a role-checking dependency carries (see ``requires_role``)."""

_F = TypeVar("_F", bound=Callable[..., Any])

_ITEM_VERBS = {"GET": "get", "PATCH": "update", "PUT": "put", "DELETE": "delete", "POST": "post"}
_COLLECTION_VERBS = {"POST": "create", "PATCH": "update", "PUT": "put", "DELETE": "delete"}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_VERSION = re.compile(r"v\d+")
_REF = "#/components/{}/{}"

_ERRORS: dict[int, str] = {
    400: "The request is malformed (an unreadable cursor, a contradictory filter).",
    401: "No credentials, or credentials that are wrong, expired or revoked.",
    403: "The caller's role is too low, or its tenant is suspended.",
    404: "No such resource in the caller's tenant.",
    409: "The request conflicts with the current state (a duplicate, a concurrent change).",
    410: "The resource existed but is gone for good (an erased person).",
    413: "The request body is larger than this operation accepts.",
    422: "A value is invalid; `errors` names each field and what is wrong with it.",
    423: "The account is locked after too many failed attempts; wait and try again.",
    429: "Too many attempts; wait for `Retry-After` seconds.",
}


def requires_role(role: Role) -> Callable[[_F], _F]:
    """Mark a dependency as admitting ``role`` and above, so the document can state it."""

    def mark(check: _F) -> _F:
        setattr(check, MINIMUM_ROLE, role)
        return check

    return mark


def install_openapi(app: FastAPI) -> None:
    """Build the document by the rules above, and answer 405 with ``Allow``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(405, _method_not_allowed)


def build_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document of ``app``, completed by the rules of this module."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {}).update(_problem_schemas())
    components["headers"] = {"RequestId": _request_id_header()}
    ids: dict[str, list[tuple[ApiRoute, dict[str, Any]]]] = {}
    for route, method, operation in _operations(app, doc):
        ids.setdefault(operation_id(route, method), []).append((route, operation))
        _describe_errors(operation, route, method)
        _mark_request_id(operation)
        role = minimum_role(route)
        if role is not None:
            operation["x-minimum-role"] = role.value
    for name, holders in ids.items():
        for route, operation in holders:
            operation["operationId"] = _disambiguate(name, route) if len(holders) > 1 else name
    _link_created_resources(doc)
    _drop_unused_validation_schemas(doc)
    return doc


def _link_created_resources(doc: dict[str, Any]) -> None:
    """OpenAPI links from each create (a ``POST`` answering 201 with an ``id``) to the operations
    on the created item — ``POST /v1/segments`` → ``GET/PATCH/DELETE /v1/segments/{segment_id}``
    and their actions — so clients and the fuzzer can follow a resource's life."""
    paths: dict[str, dict[str, Any]] = doc["paths"]
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is None or not _has_id(doc, created):
            continue
        links = {
            operation["operationId"]: {
                "operationId": operation["operationId"],
                "parameters": {found.group(1): "$response.body#/id"},
            }
            for other, other_item in paths.items()
            if (found := re.fullmatch(re.escape(path) + r"/\{(\w+_id)\}(/[\w.-]+)?", other))
            for operation in other_item.values()
        }
        if links:
            created["links"] = links


def _has_id(doc: dict[str, Any], response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    component = doc["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return "id" in component.get("properties", {})


class ApiRoute(Protocol):
    """What the rules read of a route: an ``APIRoute``, or the context FastAPI wraps one in
    once it is included under a router's prefix."""

    path_format: str
    methods: set[str]
    dependant: Dependant
    body_field: Any
    response_model: Any
    include_in_schema: bool


def api_routes(app: FastAPI) -> Iterator[ApiRoute]:
    """Every API route of the app, included routers flattened, with its full path."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield cast(ApiRoute, context)


def _operations(app: FastAPI, doc: dict[str, Any]) -> Iterator[tuple[ApiRoute, str, Any]]:
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in sorted(route.methods):
            operation = doc["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                yield route, method, operation


def operation_id(route: ApiRoute, method: str) -> str:
    """``<resource>[_<action>]_<verb>`` from the path: ``GET /v1/contacts`` → ``contacts_list``,
    ``GET /v1/contacts/{id}`` → ``contacts_get``, ``POST /v1/channels/{id}/pause`` →
    ``channels_pause`` (a POST to an action is the action itself)."""
    segments = [s for s in route.path_format.strip("/").split("/") if s]
    if segments and _VERSION.fullmatch(segments[0]):
        segments = segments[1:]
    words = [re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_") for s in segments if "{" not in s]
    on_item = bool(segments) and "{" in segments[-1]
    if on_item:
        verb = _ITEM_VERBS.get(method, method.lower())
    elif method == "GET":
        verb = "list" if _returns_page(route) else "get"
    elif method == "POST" and len(words) > 1:
        verb = ""
    else:
        verb = _COLLECTION_VERBS.get(method, method.lower())
    return "_".join(w for w in [*words, verb] if w)


def _disambiguate(name: str, route: ApiRoute) -> str:
    """Two operations named alike (``POST /templates/preview`` and ``POST /templates/{id}/
    preview``): the one acting on an identified resource says ``item`` after the resource."""
    if "{" not in route.path_format:
        return name
    resource, _, rest = name.partition("_")
    return f"{resource}_item_{rest}" if rest else f"{resource}_item"


def _returns_page(route: ApiRoute) -> bool:
    model = route.response_model
    return isinstance(model, type) and issubclass(model, Page)


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def minimum_role(route: ApiRoute) -> Role | None:
    """The role a route requires, from the marked dependency it takes (None: no role check)."""
    for sub in _dependencies(route.dependant):
        role = getattr(sub.call, MINIMUM_ROLE, None)
        if isinstance(role, Role):
            return role
    return None


def error_statuses(route: ApiRoute, method: str) -> set[int]:
    """The errors a route can answer, by what it takes:

    - credentials (a security scheme): 401, and 403 (a role too low, a suspended tenant);
    - the sign-in throttle (a ``RateLimiter``): 401, 423 and 429;
    - a path parameter: 404 and 410 (an identified resource can be missing or erased);
    - query parameters or a body: 400 and 422; a body also 404 (it can name a resource by id or
      token that does not exist) and 413;
    - a write method: 409 (a duplicate, or a concurrent write the database refused).
    """
    flat = list(_dependencies(route.dependant))
    statuses: set[int] = set()
    if any(isinstance(d.call, SecurityBase) for d in flat):
        statuses |= {401, 403}
    if any(_returns(d, RateLimiter) for d in flat):
        statuses |= {401, 423, 429}
    every = [route.dependant, *flat]
    if any(d.path_params for d in every):
        statuses |= {404, 410, 422}
    if any(d.query_params for d in every) or route.body_field is not None:
        statuses |= {400, 422}
    if route.body_field is not None:
        statuses |= {404, 413}
    if method in _WRITES:
        statuses.add(409)
    return statuses


def _returns(dependant: Dependant, kind: type) -> bool:
    annotation = getattr(dependant.call, "__annotations__", {}).get("return")
    return annotation is kind or annotation == kind.__name__


def _describe_errors(operation: dict[str, Any], route: ApiRoute, method: str) -> None:
    responses = operation.setdefault("responses", {})
    for status in sorted(error_statuses(route, method) | _declared_errors(responses)):
        schema = "ValidationProblem" if status == 422 else "Problem"
        declared = responses.get(str(status), {})
        response: dict[str, Any] = {
            "description": declared.get("description") or _ERRORS.get(status, "An error."),
            "content": {PROBLEM_JSON: {"schema": {"$ref": _REF.format("schemas", schema)}}},
        }
        if status == 401:
            response["headers"] = {"WWW-Authenticate": _plain_header("Bearer")}
        if status == 429:
            response["headers"] = {"Retry-After": _plain_header("Seconds to wait.", "integer")}
        responses[str(status)] = response


def _declared_errors(responses: dict[str, Any]) -> set[int]:
    """Error statuses a route declared itself (``responses=``): kept, rendered as problems."""
    return {int(code) for code in responses if code.isdigit() and int(code) >= 400}


def _mark_request_id(operation: dict[str, Any]) -> None:
    for response in operation["responses"].values():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = {"$ref": _REF.format("headers", "RequestId")}


def _plain_header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": kind}}


def _request_id_header() -> dict[str, Any]:
    return {
        "description": "The request's id (the caller's own if it sent a valid one); quote it "
        "when reporting a problem, it is in every log line of the request.",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    }


def _problem_schemas() -> dict[str, Any]:
    problem_schema: dict[str, Any] = {
        "type": "object",
        "description": "An RFC 9457 problem. Some carry more members (`existing_id` of a "
        "duplicate, `retry_after` of a throttle).",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "What is wrong and how to fix it."},
            "instance": {"type": "string", "description": "The request's path."},
            "request_id": {"type": "string"},
        },
        "additionalProperties": True,
    }
    field_error = {
        "type": "object",
        "required": ["field", "message"],
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
    }
    validation = {
        "description": "A problem that names each invalid field (`errors`).",
        "allOf": [
            {"$ref": _REF.format("schemas", "Problem")},
            {"type": "object", "properties": {"errors": {"type": "array", "items": field_error}}},
        ],
    }
    return {"Problem": problem_schema, "ValidationProblem": validation}


def _drop_unused_validation_schemas(doc: dict[str, Any]) -> None:
    """FastAPI's own 422 schemas describe a body Herald never sends: none refers to them now."""
    schemas = doc["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods of every route whose path matches (a path has a route per method)."""
    methods: set[str] = set()
    for context in iter_route_contexts(app.routes):
        route_methods, route_path = context.methods, context.path
        if route_methods and route_path and compile_path(route_path)[0].match(path):
            methods |= route_methods
    return sorted(methods)


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own 405 names the methods of the one route it tried; a path here has a
    route per method, so ``Allow`` is gathered from all of them."""
    allowed = allowed_methods(request.app, request.url.path)
    detail = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}."
    response = problem(request, 405, "Method not allowed", detail)
    response.headers["Allow"] = ", ".join(allowed)
    return response
