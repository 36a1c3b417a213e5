"""Meta's template quality updates, end to end: a template submitted through a WhatsApp
channel, approved and then rated by the simulator, whose signed webhooks reach the API served
on a real port; the template API shows the new score. Another tenant's template of the same
name is not touched."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from herald.kit.database import Database
from herald.sim.state import SenderControl
from tests.channel.helpers import WABA_ID, create, whatsapp_body
from tests.conftest import TenantFixture
from tests.hook.helpers import process_all
from tests.sim.server import SimServer, sim, sim_server
from tests.whatsapp.helpers import Draft

__all__ = ["sim", "sim_server"]

APP_SECRET = "meta-app-secret-quality"
WAIT_SECONDS = 20.0


async def _draft(client: httpx.AsyncClient, tenant: TenantFixture) -> Any:
    body = Draft(name="order_ready").body()
    answer = await client.post("/v1/whatsapp-templates", json=body, headers=tenant.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _template(client: httpx.AsyncClient, tenant: TenantFixture, template_id: str) -> Any:
    answer = await client.get(f"/v1/whatsapp-templates/{template_id}", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _until(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    template_id: str,
    field: str,
    value: str,
) -> Any:
    """Apply callbacks as the simulator posts them until the template's ``field`` reads
    ``value``."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        await process_all(db)
        template = await _template(client, tenant, template_id)
        if template[field] == value:
            return template
        await asyncio.sleep(0.05)
    raise AssertionError(f"{field} never became {value}: {template[field]}")


async def _control(sim: SimServer, path: str, body: dict[str, str]) -> None:
    async with httpx.AsyncClient() as control:
        answer = await control.post(f"{sim.url}/control/whatsapp/{WABA_ID}/{path}", json=body)
        assert answer.status_code == 200, answer.text


async def test_a_quality_update_reaches_the_template_api(
    client: httpx.AsyncClient,
    db: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    sim: SimServer,
    served: str,
) -> None:
    body = whatsapp_body(base_url=sim.url + "/whatsapp")
    body["config"]["app_secret"] = APP_SECRET
    channel = await create(client, tenant.headers, body)
    draft = await _draft(client, tenant)
    theirs = await _draft(client, other_tenant)
    submitted = await client.post(
        f"/v1/channels/{channel['id']}/submit-template",
        json={"template_id": draft["id"]},
        headers=tenant.headers,
    )
    assert submitted.status_code == 200, submitted.text
    meta_id = submitted.json()["meta_template_id"]
    sim.sim.state.senders[WABA_ID] = SenderControl(
        callback_url=f"{served}/v1/hooks/whatsapp/{channel['id']}", signing_secret=APP_SECRET
    )

    await _control(sim, f"templates/{meta_id}", {"status": "APPROVED"})
    approved = await _until(client, db, tenant, draft["id"], "status", "APPROVED")
    assert approved["quality_rating"] == "UNKNOWN"

    await _control(sim, f"templates/{meta_id}/quality", {"score": "YELLOW"})
    await _until(client, db, tenant, draft["id"], "quality_rating", "YELLOW")
    await _control(sim, f"templates/{meta_id}/quality", {"score": "RED"})
    rated = await _until(client, db, tenant, draft["id"], "quality_rating", "RED")

    assert rated["status"] == "APPROVED"
    assert (await _template(client, other_tenant, theirs["id"]))["quality_rating"] == "UNKNOWN"
