"""The demo tenant gets a simulator SMS channel, and the banner shows how to send through it."""

from __future__ import annotations

from pathlib import Path

import httpx

from herald.demo import ensure_demo, read_demo
from herald.kit.database import Database
from herald.runtime.supervisor import send_example
from herald.settings import Settings


async def test_demo_has_a_simulator_channel(
    settings: Settings, db: Database, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    config = settings.model_copy(
        update={"data_dir": tmp_path, "demo": True, "public_url": "http://demo.test:8000"}
    )

    demo = await ensure_demo(config, db)

    assert demo is not None and demo.channel_id
    assert read_demo(tmp_path) == demo
    headers = {"Authorization": f"Bearer {demo.api_key}"}
    channel = (await client.get(f"/v1/channels/{demo.channel_id}", headers=headers)).json()
    assert (channel["name"], channel["provider"], channel["kind"]) == (
        "Simulator",
        "simulator",
        "sms",
    )
    assert channel["config"]["api_base_url"] == "http://demo.test:8000/sim"
    example = send_example("http://demo.test:8000", demo)
    assert f'"channel_id": "{demo.channel_id}"' in example
    assert "http://demo.test:8000/v1/messages" in example
