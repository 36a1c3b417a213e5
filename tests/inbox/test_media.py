"""A WhatsApp media a contact sent, downloaded on demand through the channel from the
simulator's Cloud API (``GET /{media-id}`` for the URL, then the URL with the token)."""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx

from herald.channel.models import Channel
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.ids import new_id
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig
from herald.providers.whatsapp_cloud.media import MediaFile, MediaUnavailable, download_media
from tests.conftest import TenantFixture
from tests.inbox.helpers import (
    PHONE_NUMBER_ID,
    phone,
    receive,
    sms_channel,
    sms_inbound,
    whatsapp_channel,
    whatsapp_inbound,
)
from tests.sim.server import SimServer, sim, sim_server

__all__ = ["sim", "sim_server"]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def upload(sim: SimServer, data: bytes, mime: str) -> str:
    """Put a file on the simulator the way a business uploads one to the Cloud API."""
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", mime)
    form.add_field("file", data, filename="photo.png", content_type=mime)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{sim.url}/whatsapp/v23.0/{PHONE_NUMBER_ID}/media",
            data=form,
            headers={"Authorization": "Bearer EAAG-test-access-token"},
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()
        media_id: str = (await answer.json())["id"]
    return media_id


def image(media_id: str) -> dict[str, Any]:
    return {
        "id": f"wamid.{new_id().hex}",
        "type": "image",
        "image": {"mime_type": "image/png", "sha256": "x", "id": media_id, "caption": "look"},
    }


async def media_message(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, channel: Channel, media_id: str
) -> tuple[str, str]:
    """(conversation id, message id) of an inbound image."""
    await receive(db, channel, whatsapp_inbound(phone(), [image(media_id)]))
    listed = await client.get(
        "/v1/conversations", params={"channel_id": str(channel.id)}, headers=tenant.headers
    )
    [conversation] = listed.json()["items"]
    assert conversation["last_preview"] == "look"  # the caption stands for the image
    thread = await client.get(
        f"/v1/conversations/{conversation['id']}/messages", headers=tenant.headers
    )
    [message] = thread.json()["items"]
    assert message["media"][0]["provider_media_id"] == media_id
    assert message["media"][0]["caption"] == "look"
    return conversation["id"], message["id"]


async def test_download_through_the_channel(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sim: SimServer,
) -> None:
    channel = await whatsapp_channel(db, tenant.id, sim)
    media_id = await upload(sim, PNG, "image/png")
    conversation_id, message_id = await media_message(client, db, tenant, channel, media_id)
    path = f"/v1/conversations/{conversation_id}/messages/{message_id}/media"

    got = await client.get(path, headers=await tenant.key_for(Role.viewer))

    assert got.status_code == 200, got.text
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(path, headers=other_tenant.headers)).status_code == 404
    second = await client.get(path, params={"index": 1}, headers=tenant.headers)
    assert second.status_code == 404


async def test_a_media_the_provider_no_longer_has_is_a_bad_gateway(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await whatsapp_channel(db, tenant.id, sim)
    conversation_id, message_id = await media_message(client, db, tenant, channel, "123456")
    got = await client.get(
        f"/v1/conversations/{conversation_id}/messages/{message_id}/media", headers=tenant.headers
    )
    assert got.status_code == 502
    assert "media" in got.json()["detail"]


async def test_a_text_message_has_no_media(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sim: SimServer
) -> None:
    channel = await sms_channel(db, tenant.id, sim)
    await receive(db, channel, [sms_inbound(channel, phone(), "plain text")])
    listed = await client.get(
        "/v1/conversations", params={"channel_id": str(channel.id)}, headers=tenant.headers
    )
    [conversation] = listed.json()["items"]
    thread = await client.get(
        f"/v1/conversations/{conversation['id']}/messages", headers=tenant.headers
    )
    [message] = thread.json()["items"]
    got = await client.get(
        f"/v1/conversations/{conversation['id']}/messages/{message['id']}/media",
        headers=tenant.headers,
    )
    assert got.status_code == 404


async def test_the_adapter_refuses_ids_and_urls_it_should_not_follow(sim: SimServer) -> None:
    config = WhatsAppCloudConfig(
        api_base_url=f"{sim.url}/whatsapp",
        phone_number_id=PHONE_NUMBER_ID,
        access_token="EAAG-test-access-token",  # type: ignore[arg-type]
        app_secret="app-secret-1234",  # type: ignore[arg-type]
    )
    async with aiohttp.ClientSession() as http:
        traversal = await download_media(http, config, "../123/messages")
        assert isinstance(traversal, MediaUnavailable) and traversal.code == "bad_media_id"
        media_id = await upload(sim, b"%PDF-1.7 ...", "application/pdf")
        found = await download_media(http, config, media_id)
        assert found == MediaFile("application/pdf", b"%PDF-1.7 ...")
