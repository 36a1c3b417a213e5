"""The webhook endpoints: each provider's signature, replays, wrong URLs, the size limit,
Meta's handshake and the per-channel stats."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode
from uuid import UUID

import httpx
import pytest
from sqlalchemy import delete, select
from twilio.request_validator import RequestValidator

from herald.channel.models import Channel
from herald.hook.models import WebhookRejection
from herald.hook.service import MAX_BODY
from herald.kit.context import Role
from herald.kit.database import Database
from tests.conftest import TenantFixture
from tests.hook.helpers import (
    FORM,
    MITTO_TOKEN,
    PUBLIC,
    TWILIO_TOKEN,
    VERIFY_TOKEN,
    Callback,
    make_channel,
    meta_status,
    mitto_dlr,
    sim_receipt,
    stored_events,
    twilio_status,
    vonage_dlr,
)


def _signed(provider: str, cid: UUID, *, wrong: bool = False) -> Callback:
    if provider == "simulator":
        return sim_receipt(
            cid, "sim_1", "delivered", secret="x" * 12 if wrong else "sim-signing-secret"
        )
    if provider == "twilio":
        return twilio_status(
            cid, "SM1", "delivered", token="wrong-token-1" if wrong else TWILIO_TOKEN
        )
    if provider == "whatsapp_cloud":
        return meta_status(
            cid, [("wamid.1", "delivered")], secret="wrong-secret" if wrong else "meta-app-secret-1"
        )
    if provider == "vonage":
        return vonage_dlr(
            cid, "v-1", "delivered", secret="wrong-secret-1" if wrong else "vonage-signature-secret"
        )
    return mitto_dlr(cid, "m-1", "delivered", token="w" * 24 if wrong else MITTO_TOKEN)


PROVIDERS = ["simulator", "twilio", "whatsapp_cloud", "vonage", "mitto"]
SIGNATURE_HEADERS = {
    "simulator": "X-Sim-Signature",
    "twilio": "X-Twilio-Signature",
    "whatsapp_cloud": "X-Hub-Signature-256",
}


async def _post(client: httpx.AsyncClient, callback: Callback) -> httpx.Response:
    return await client.post(callback.path, content=callback.body, headers=callback.headers)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_signed_callback_is_stored_once_and_a_replay_says_so(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, provider: str
) -> None:
    channel = await make_channel(db, tenant.id, provider)
    callback = _signed(provider, channel.id)

    first = await _post(client, callback)
    again = await _post(client, callback)

    assert first.status_code == 200, first.text
    assert again.status_code == 200
    if provider == "twilio":
        assert first.headers["content-type"].startswith("text/xml")
        assert again.headers["x-herald-duplicate"] == "true"
    else:
        assert first.json() == {"accepted": True, "duplicate": False}
        assert again.json() == {"accepted": True, "duplicate": True}
    [event] = await stored_events(db, channel.id)
    assert event.tenant_id == tenant.id and event.provider == provider
    assert event.payload == callback.body and event.processed_at is None
    assert len(event.event_ids) == 1 and event.dedupe_key == event.event_ids[0]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_bad_signature_is_refused_counted_and_not_stored(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, provider: str
) -> None:
    channel = await make_channel(db, tenant.id, provider)

    answer = await _post(client, _signed(provider, channel.id, wrong=True))

    assert answer.status_code == 403
    assert "signature" in answer.json()["detail"]
    assert await stored_events(db, channel.id) == []
    async with db.system_session() as session:
        count = await session.scalar(
            select(WebhookRejection.count).where(WebhookRejection.channel_id == channel.id)
        )
    assert count == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_missing_signature_is_refused(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, provider: str
) -> None:
    channel = await make_channel(db, tenant.id, provider)
    callback = _signed(provider, channel.id)
    headers = {k: v for k, v in callback.headers.items() if k != SIGNATURE_HEADERS.get(provider)}
    path, body = callback.path, callback.body
    if provider == "vonage":
        body = urlencode([(k, v) for k, v in parse_qsl(body.decode()) if k != "sig"]).encode()
    if provider == "mitto":
        path = path.split("?", 1)[0]

    answer = await client.post(path, content=body, headers=headers)

    assert answer.status_code == 403
    assert await stored_events(db, channel.id) == []


async def test_twilio_signatures_agree_with_twilios_own_validator(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "twilio")
    path = f"/v1/hooks/twilio/{channel.id}/inbound"
    params = {"MessageSid": "SM9", "From": "+14155550100", "To": "+12025550100", "Body": "Hi"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, params)

    answer = await client.post(
        path,
        content=urlencode(params).encode(),
        headers={"Content-Type": FORM, "X-Twilio-Signature": signature},
    )

    assert answer.status_code == 200, answer.text
    assert RequestValidator(TWILIO_TOKEN).validate(PUBLIC + path, params, signature)
    [event] = await stored_events(db, channel.id)
    assert event.event_ids == ["SM9"]


async def test_a_wrong_url_answers_404(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    callback = sim_receipt(channel.id, "sim_1", "delivered")
    twilio_path = f"/v1/hooks/twilio/{channel.id}/status"
    unknown = callback.path.replace(str(channel.id), "018f0000-0000-7000-8000-000000000000")

    for path in (twilio_path, unknown):
        answer = await client.post(path, content=callback.body, headers=callback.headers)
        assert answer.status_code == 404, path
    assert await stored_events(db, channel.id) == []


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_channel_id_that_is_not_a_uuid_answers_422_naming_the_path_parameter(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, provider: str
) -> None:
    channel = await make_channel(db, tenant.id, provider)
    callback = _signed(provider, channel.id)

    answer = await _post(
        client,
        Callback(callback.path.replace(str(channel.id), "12345"), callback.body, callback.headers),
    )

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["errors"][0]["field"] == "path.channel_id"
    assert problem["request_id"] == answer.headers["X-Request-ID"]
    assert await stored_events(db, channel.id) == []


async def test_a_body_over_the_limit_answers_413(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")

    answer = await client.post(
        f"/v1/hooks/simulator/{channel.id}",
        content=b"x" * (MAX_BODY + 1),
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 413
    assert await stored_events(db, channel.id) == []


async def test_a_get_callback_is_read_from_its_query_string(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "mitto")
    query = urlencode({"token": MITTO_TOKEN, "id": "m-7", "status": "delivrd"})

    answer = await client.get(f"/v1/hooks/mitto/{channel.id}?{query}")

    assert answer.status_code == 200, answer.text
    [event] = await stored_events(db, channel.id)
    assert event.event_ids == ["m-7:delivrd"]


async def test_metas_handshake_echoes_the_challenge_only_for_the_verify_token(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "whatsapp_cloud")
    path = f"/v1/hooks/whatsapp/{channel.id}"
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }

    answer = await client.get(path, params=good)
    wrong = await client.get(path, params={**good, "hub.verify_token": "not-the-token"})
    sms = await make_channel(db, tenant.id, "simulator")
    elsewhere = await client.get(f"/v1/hooks/whatsapp/{sms.id}", params=good)

    assert answer.status_code == 200 and answer.text == "1158201444"
    assert wrong.status_code == 403
    assert elsewhere.status_code == 404


async def test_stats_count_a_tenants_own_channels_only(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    theirs = await make_channel(db, other_tenant.id, "simulator")
    await _post(client, sim_receipt(channel.id, "sim_1", "sent"))
    await _post(client, sim_receipt(channel.id, "sim_1", "delivered"))
    await _post(client, sim_receipt(channel.id, "sim_1", "read", secret="wrong-secret-9"))
    await _post(client, sim_receipt(theirs.id, "sim_2", "sent"))

    answer = await client.get("/v1/hooks/stats", headers=await tenant.key_for(Role.viewer))
    other = await client.get("/v1/hooks/stats", headers=other_tenant.headers)
    anonymous = await client.get("/v1/hooks/stats")

    assert answer.status_code == 200
    [mine] = [s for s in answer.json()["items"] if s["channel_id"] == str(channel.id)]
    assert (mine["received"], mine["pending"], mine["failed"], mine["rejected"]) == (2, 2, 0, 1)
    assert str(theirs.id) not in {s["channel_id"] for s in answer.json()["items"]}
    assert str(channel.id) not in {s["channel_id"] for s in other.json()["items"]}
    assert anonymous.status_code == 401


async def test_a_channel_deleted_after_a_callback_answers_404_to_the_next(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    first = await _post(client, sim_receipt(channel.id, "sim_1", "sent"))
    async with db.system_session() as session:
        await session.execute(delete(Channel).where(Channel.id == channel.id))

    after = await _post(client, sim_receipt(channel.id, "sim_1", "delivered"))

    assert first.status_code == 200
    assert after.status_code == 404
