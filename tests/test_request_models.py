"""Every JSON request body of the API refuses unknown fields, read from the OpenAPI document so
that a model added later is covered without anyone listing it here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

JSON = "application/json"


def _loose_objects(schema: dict[str, Any], components: dict[str, Any], seen: set[str]) -> set[str]:
    """Names (or paths) of object schemas reachable from ``schema`` that accept extra keys."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return set()
        seen.add(name)
        return _loose_objects(components[name], components, seen)
    found: set[str] = set()
    if "properties" in schema and schema.get("additionalProperties") is not False:
        found.add(schema.get("title", "<inline object>"))
    children = [*schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])]
    children += list(schema.get("properties", {}).values())
    children += [
        schema[k] for k in ("items", "additionalProperties") if isinstance(schema.get(k), dict)
    ]
    for child in children:
        found |= _loose_objects(child, components, seen)
    return found


def test_every_json_request_body_forbids_unknown_fields(app: FastAPI) -> None:
    document = app.openapi()
    components = document["components"]["schemas"]
    loose: dict[str, set[str]] = {}
    bodies = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if JSON in content:
                bodies += 1
                found = _loose_objects(content[JSON]["schema"], components, set())
                if found:
                    loose[f"{method.upper()} {path}"] = found
    assert bodies > 20, "the walk must see the API's request bodies"
    assert loose == {}, 'add model_config = ConfigDict(extra="forbid") to these request models'
