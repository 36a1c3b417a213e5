"""Erasing a person reaches every copy of them: a contact who wrote in on WhatsApp (profile
name, text, a photo with a caption, a location) and by SMS, whose conversations the team
tagged, annotated and answered, is erased through the API; then every row the tenant holds,
in every table, is scanned for what they gave. The same person in a second tenant keeps
everything there."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import LargeBinary, text

from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.kit.models import Base
from tests.conftest import TenantFixture
from tests.hook.helpers import Callback, make_channel, meta_messages, process_all, twilio_inbound

PHONE = "+14155550777"
NAME = "Quentin Zebulon"
SAID = ("Xylophone street 12", "Xylocaption", "Xylohome", "Xylonote", "xylo-vip", "Xyloreply")
"""Words the person or the team wrote about them, each found nowhere else."""
PERSONAL = (PHONE.removeprefix("+1"), "Quentin", "Zebulon", *SAID)


async def _post(client: httpx.AsyncClient, callback: Callback) -> None:
    answer = await client.post(callback.path, content=callback.body, headers=callback.headers)
    assert answer.status_code == 200, answer.text


async def _writes_in(client: httpx.AsyncClient, db: Database, tenant: TenantFixture) -> str:
    """The person writes on both channels; the team works their WhatsApp thread. Returns the
    contact's id."""
    whatsapp = await make_channel(db, tenant.id, "whatsapp_cloud")
    sms = await make_channel(db, tenant.id, "twilio")
    photo = {"id": "media-77", "mime_type": "image/jpeg", "caption": SAID[1]}
    place = {"latitude": 48.85, "longitude": 2.35, "name": SAID[2], "address": SAID[0]}
    messages = [
        {"id": f"wamid.{new_id().hex}", "type": "text", "text": {"body": SAID[0]}},
        {"id": f"wamid.{new_id().hex}", "type": "image", "image": photo},
        {"id": f"wamid.{new_id().hex}", "type": "location", "location": place},
    ]
    await _post(client, meta_messages(whatsapp.id, PHONE, NAME, messages))
    await _post(client, twilio_inbound(sms.id, f"SM{new_id().hex}", SAID[0], sender=PHONE))
    await process_all(db)

    h = tenant.headers
    threads = (await client.get("/v1/conversations", headers=h)).json()["items"]
    assert len(threads) == 2
    for thread in threads:
        url = f"/v1/conversations/{thread['id']}"
        tagged = await client.patch(url, json={"tags": [SAID[4]]}, headers=h)
        assert tagged.status_code == 200, tagged.text
        noted = await client.post(f"{url}/notes", json={"body": f"{SAID[3]} {NAME}"}, headers=h)
        assert noted.status_code == 201, noted.text
        replied = await client.post(f"{url}/replies", json={"body": SAID[5]}, headers=h)
        assert replied.status_code in (200, 201, 202), replied.text
    return str(threads[0]["contact_id"])


async def _everything_of(db: Database, tenant_id: UUID) -> str:
    """Every row of every table the tenant has rows in, as text (binary columns decoded)."""
    dumped: list[str] = []
    async with db.system_session() as session:
        for table in Base.metadata.sorted_tables:
            if "tenant_id" not in table.c:
                continue
            binaries = [c.name for c in table.c if isinstance(c.type, LargeBinary)]
            decoded = "".join(f", encode({name}, 'escape')" for name in binaries)
            query = f"SELECT t::text{decoded} FROM {table.name} t WHERE tenant_id = :t"  # noqa: S608 - names from the metadata
            rows = await session.execute(text(query), {"t": tenant_id})
            dumped.extend(f"{table.name}: {' '.join(map(str, row))}" for row in rows)
    return "\n".join(dumped)


def _found(dump: str) -> list[tuple[str, str]]:
    """(value, the line holding it) for every personal value still present."""
    lines = dump.lower().splitlines()
    return [(v, line[:200]) for v in PERSONAL for line in lines if v.lower() in line]


async def test_erasure_leaves_nothing_personal_in_any_table(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    contact_id = await _writes_in(client, db, tenant)
    await _writes_in(client, db, other_tenant)
    before = await _everything_of(db, tenant.id)
    assert {value for value, _line in _found(before)} == set(PERSONAL)

    erased = await client.delete(f"/v1/contacts/{contact_id}?erase=true", headers=tenant.headers)
    assert erased.status_code == 204, erased.text

    assert _found(await _everything_of(db, tenant.id)) == []
    theirs = _found(await _everything_of(db, other_tenant.id))
    assert {value for value, _line in theirs} == set(PERSONAL)


async def test_a_replayed_callback_of_an_erased_person_stays_a_replay(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    """The raw callbacks are blanked, not deleted: the provider's retry is still refused as a
    replay and brings nothing of the person back."""
    whatsapp = await make_channel(db, tenant.id, "whatsapp_cloud")
    hello: list[dict[str, Any]] = [
        {"id": f"wamid.{new_id().hex}", "type": "text", "text": {"body": SAID[0]}}
    ]
    callback = meta_messages(whatsapp.id, PHONE, NAME, hello)
    await _post(client, callback)
    await process_all(db)
    threads = (await client.get("/v1/conversations", headers=tenant.headers)).json()["items"]
    contact_id = threads[0]["contact_id"]
    url = f"/v1/contacts/{contact_id}?erase=true"
    assert (await client.delete(url, headers=tenant.headers)).status_code == 204

    await _post(client, callback)
    await process_all(db)
    assert _found(await _everything_of(db, tenant.id)) == []
