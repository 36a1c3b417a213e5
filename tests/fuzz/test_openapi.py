"""The OpenAPI document as a contract: ids, declared errors, the problem format, 405s."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import schemathesis

from herald.kit.errors import PROBLEM_JSON
from tests.fuzz.conftest import api_document

OPERATION_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return api_document()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _by_id(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {op["operationId"]: (method, path, op) for method, path, op in _operations(document)}


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    schemathesis.openapi.from_dict(document).validate()


async def test_the_live_api_serves_the_same_document(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    served = await client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == document


def test_operation_ids_are_unique_and_readable(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(ids) == len(set(ids))
    assert all(OPERATION_ID.match(i) for i in ids), [i for i in ids if not OPERATION_ID.match(i)]


@pytest.mark.parametrize(
    ("operation_id", "method", "path"),
    [
        ("contacts_list", "GET", "/v1/contacts"),
        ("contacts_create", "POST", "/v1/contacts"),
        ("contacts_get", "GET", "/v1/contacts/{contact_id}"),
        ("contacts_update", "PATCH", "/v1/contacts/{contact_id}"),
        ("contacts_delete", "DELETE", "/v1/contacts/{contact_id}"),
        ("contacts_bulk_tags", "POST", "/v1/contacts/bulk/tags"),
        ("channels_pause", "POST", "/v1/channels/{channel_id}/pause"),
        ("tenant_get", "GET", "/v1/tenant"),
        ("secrets_put", "PUT", "/v1/secrets/{name}"),
        ("templates_preview", "POST", "/v1/templates/preview"),
        ("templates_item_preview", "POST", "/v1/templates/{template_id}/preview"),
    ],
)
def test_operation_ids_follow_the_path(
    document: dict[str, Any], operation_id: str, method: str, path: str
) -> None:
    found_method, found_path, _ = _by_id(document)[operation_id]
    assert (found_method, found_path) == (method, path)


def test_every_error_response_is_a_problem(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            assert "X-Request-ID" in headers, (method, path, status)
            if int(status) < 400:
                continue
            assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
            schema = response["content"][PROBLEM_JSON]["schema"]["$ref"]
            expected = "ValidationProblem" if status == "422" else "Problem"
            assert schema == f"#/components/schemas/{expected}", (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize(
    ("operation_id", "statuses", "role"),
    [
        ("contacts_list", {"400", "401", "403", "422"}, "viewer"),
        ("contacts_create", {"400", "401", "403", "404", "409", "413", "422"}, "manager"),
        ("contacts_get", {"401", "403", "404", "410", "422"}, "viewer"),
        ("channels_delete", {"401", "403", "404", "409", "410", "422"}, "admin"),
        ("wallet_update", {"400", "401", "403", "404", "409", "413", "422"}, "owner"),
        ("auth_login", {"400", "401", "404", "409", "413", "422", "423", "429"}, None),
        ("auth_logout", {"400", "401", "404", "409", "413", "422"}, None),
        ("healthz_get", set(), None),
    ],
)
def test_errors_follow_what_an_operation_takes(
    document: dict[str, Any], operation_id: str, statuses: set[str], role: str | None
) -> None:
    """Credentials → 401/403, a path id → 404/410, input → 400/422, a body → 404/413, a
    write → 409, the sign-in throttle → 423/429, a route's own (logout's 401) kept; the
    minimum role is stated."""
    _, _, operation = _by_id(document)[operation_id]
    declared = {status for status in operation["responses"] if int(status) >= 400}
    assert declared == statuses
    assert operation.get("x-minimum-role") == role
    if "401" in statuses:
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]


async def test_a_real_error_carries_what_the_problem_schema_requires(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    answer = await client.get("/v1/contacts/not-a-uuid", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == PROBLEM_JSON
    body = answer.json()
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) <= set(body)
    assert body["request_id"] == answer.headers["x-request-id"]


async def test_405_names_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    answer = await client.put("/v1/contacts")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["x-request-id"]
    assert answer.json()["detail"] == "PUT is not allowed on /v1/contacts; use GET, POST."


async def test_405_on_an_item_path(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/contacts/0190c0de-0000-7000-8000-000000000000")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "DELETE, GET, PATCH"


def test_a_create_links_to_the_operations_on_what_it_made(document: dict[str, Any]) -> None:
    created = document["paths"]["/v1/segments"]["post"]["responses"]["201"]
    assert created["links"]["segments_delete"] == {
        "operationId": "segments_delete",
        "parameters": {"segment_id": "$response.body#/id"},
    }
    assert {"segments_get", "segments_update", "segments_refresh"} <= set(created["links"])
    dnc = document["paths"]["/v1/dnc"]["post"]["responses"]["201"]
    assert "links" not in dnc  # its item is addressed by phone number, not by the id it answers
