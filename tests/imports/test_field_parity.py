"""A contact field gives the same verdict through ``POST /v1/contacts`` and through a CSV
import: both read their rules from ``herald.contact.fields``."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from herald.contact.fields import EMAIL_MAX_LENGTH, MAX_LENGTHS, MAX_TAGS, TAG_MAX_LENGTH
from tests.conftest import TenantFixture
from tests.contact.helpers import us_number
from tests.imports.helpers import upload

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
MANY_TAGS = [f"t{i}" for i in range(MAX_TAGS + 1)]


def _text_cases() -> list[tuple[str, Any, bool]]:
    return [
        case
        for name, limit in MAX_LENGTHS.items()
        for case in ((name, "a" * limit, True), (name, "a" * (limit + 1), False))
    ]


CASES: list[tuple[str, Any, bool]] = [
    ("tags", ["t" * TAG_MAX_LENGTH], True),
    ("tags", ["t" * (TAG_MAX_LENGTH + 1)], False),
    ("tags", ["t" * 100], False),
    ("tags", ["t" * 101], False),
    ("tags", MANY_TAGS[:MAX_TAGS], True),
    ("tags", MANY_TAGS, False),
    ("email", "ada@example.com", True),
    ("email", "Ada.Lovelace+news@Example.CO.UK", True),
    ("email", "zoë@exämple.org", True),
    ("email", "a@xn--bcher-kva.ch", True),
    ("email", "x" * 64 + "@example.com", True),
    ("email", "x" * 65 + "@example.com", False),
    ("email", "a@" + "b" * (EMAIL_MAX_LENGTH - 6) + ".com", False),
    ("email", "not-an-email", False),
    ("email", "a@b", False),
    ("email", "a..b@example.com", False),
    ("email", ".a@example.com", False),
    ("email", "a b@example.com", False),
    ("email", "a@@example.com", False),
    ("email", "a@-example.com", False),
    ("email", "a@exa_mple.com", False),
    ("email", '"quoted"@example.com', False),
    *_text_cases(),
    ("timezone", "Europe/Paris", True),
    ("timezone", "UTC", True),
    ("timezone", "America/Argentina/Buenos_Aires", True),
    ("timezone", "Mars/Base", False),
    ("timezone", "europe/paris", False),
    ("birth_date", "1990-12-10", True),
    ("birth_date", "2000-02-29", True),
    ("birth_date", "1900-01-01", True),
    ("birth_date", "2001-02-29", False),
    ("birth_date", "1899-12-31", False),
    ("birth_date", TOMORROW, False),
    ("birth_date", "10 Dec 1990", False),
    ("gender", "female", True),
    ("gender", "F", True),
    ("gender", "Woman", True),
    ("gender", "non-binary", True),
    ("gender", "unknown", True),
    ("gender", "robot", False),
]


def _case_id(case: tuple[str, Any, bool]) -> str:
    name, value, accepted = case
    shown = f"{len(value)} tags" if isinstance(value, list) and len(value) > 1 else str(value)
    return f"{name}={shown[:24]}-{'ok' if accepted else 'bad'}"


def _cell(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


def _one_row_csv(name: str, value: Any) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["phone", name])
    writer.writerow([us_number(), _cell(value)])
    return out.getvalue().encode()


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
async def test_same_verdict_through_the_api_and_an_import(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    case: tuple[str, Any, bool],
) -> None:
    """The import goes to another tenant: an email the API saved would be taken in this one."""
    name, value, accepted = case
    api = await client.post(
        "/v1/contacts", json={"phone": us_number(), name: value}, headers=tenant.headers
    )
    imported = await upload(client, other_tenant, _one_row_csv(name, value), force="true")
    assert imported.status_code == 202, imported.text
    counts = imported.json()["counts"]

    assert api.status_code == (201 if accepted else 422), api.text
    assert (counts["created"], counts["rejected"]) == ((1, 0) if accepted else (0, 1))


async def test_both_store_the_same_email(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    """Domains are case-insensitive: both paths lower-case them and keep the local part."""
    given = " Ada.Lovelace@Example.COM "
    api = await client.post(
        "/v1/contacts", json={"phone": us_number(), "email": given}, headers=tenant.headers
    )
    await upload(client, other_tenant, _one_row_csv("email", given), force="true")
    listed = await client.get("/v1/contacts", headers=other_tenant.headers)
    assert api.json()["email"] == listed.json()["items"][0]["email"] == "Ada.Lovelace@example.com"
