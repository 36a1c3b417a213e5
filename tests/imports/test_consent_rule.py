"""The consent rule gives the same outcome through an import's merge (SQL, which keeps the
stored status) and through the API (Python, which refuses with 409), for every transition
a file can express, on both channels."""

from __future__ import annotations

import itertools

import httpx

from herald.contact.consent import guarded_status, is_allowed
from herald.contact.models import ChannelKind, ConsentStatus
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.imports.helpers import add_contact, contacts_by_phone, csv_bytes, upload

S = ConsentStatus
FROM_FILE = [S.opted_in, S.implied, S.opted_out, None]
"""What a consent cell can say (``unknown`` or an empty cell: nothing, the stored one stays)."""
PAIRS = list(itertools.product(S, FROM_FILE))


def _phone(n: int) -> str:
    return f"+1212234{5100 + n:04d}"


def _shifted(i: int) -> tuple[ConsentStatus, ConsentStatus | None]:
    """WhatsApp gets every pair too, on other rows than SMS."""
    return PAIRS[(i + 5) % len(PAIRS)]


async def test_an_import_applies_the_rule_of_the_api(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    for i, (sms, _) in enumerate(PAIRS):
        await add_contact(
            db, tenant.id, phone_e164=_phone(i), sms_status=sms, whatsapp_status=_shifted(i)[0]
        )
    lines = [
        f"{_phone(i)},{new.value if new else ''},{_shifted(i)[1] or ''}"
        for i, (_, new) in enumerate(PAIRS)
    ]
    response = await upload(client, tenant, csv_bytes("phone,sms_status,whatsapp_status", *lines))
    assert response.status_code == 202, response.text

    contacts = await contacts_by_phone(db, tenant.id)
    found = {
        i: (contacts[_phone(i)].sms_status, contacts[_phone(i)].whatsapp_status)
        for i in range(len(PAIRS))
    }
    expected = {i: (guarded_status(*PAIRS[i]), guarded_status(*_shifted(i))) for i in found}
    assert found == expected
    refused = [
        i
        for i, pairs in enumerate(zip(PAIRS, map(_shifted, range(len(PAIRS))), strict=True))
        if any(
            new is not None and not is_allowed(old, new, resubscribe=False) for old, new in pairs
        )
    ]
    assert response.json()["counts"]["consent_kept"] == len(refused) > 0


async def test_the_api_refuses_what_an_import_keeps(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    for i, (channel, (old, new)) in enumerate(itertools.product(ChannelKind, PAIRS)):
        if new is None:
            continue
        contact = await add_contact(
            db, tenant.id, phone_e164=_phone(100 + i), **{f"{channel.value}_status": old}
        )
        patched = await client.patch(
            f"/v1/contacts/{contact.id}",
            json={f"{channel.value}_status": new.value},
            headers=tenant.headers,
        )
        kept = guarded_status(old, new) is not new
        assert patched.status_code == (409 if kept else 200), (channel, old, new, patched.text)
        got = await client.get(f"/v1/contacts/{contact.id}", headers=tenant.headers)
        assert got.json()[f"{channel.value}_status"] == guarded_status(old, new)
