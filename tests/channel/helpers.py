"""Channel bodies for requests, and the raw stored config for encryption checks."""

from __future__ import annotations

from itertools import count
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text

from herald.kit.database import Database

_names = count()
TWILIO_SID = "AC" + "0123456789abcdef" * 2
PHONE_NUMBER_ID = "1098765432"
WABA_ID = "2233445566"
CLOSED_PORT = "http://127.0.0.1:9"
"""Where test channels point unless a test serves something: refused at once, never the
internet (the periodic sync visits every active WhatsApp channel)."""


def sms_body(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "sms",
        "provider": "simulator",
        "name": f"Sim {next(_names)}",
        "sender": "+15550100",
        "rate_per_second": 10,
        **extra,
    }


def whatsapp_body(base_url: str = CLOSED_PORT, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "whatsapp",
        "provider": "whatsapp_cloud",
        "name": f"WhatsApp {next(_names)}",
        "rate_per_second": 20,
        "config": {
            "phone_number_id": PHONE_NUMBER_ID,
            "waba_id": WABA_ID,
            "access_token": "EAAG-secret-token",
            "api_base_url": base_url,
            "api_version": "v23.0",
        },
        **extra,
    }


async def create(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    response = await client.post("/v1/channels", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def audited_changes(db: Database, channel_id: UUID | str) -> list[tuple[str, str]]:
    """The audit log's entries for the channel: action and the changes as JSON text."""
    async with db.system_session() as session:
        rows = await session.execute(
            text(
                "SELECT action, changes::text FROM audit_log WHERE resource_id = :id "
                "ORDER BY created_at"
            ),
            {"id": str(channel_id)},
        )
        return [(row[0], row[1]) for row in rows.all()]


async def raw_config(db: Database, channel_id: UUID | str) -> str:
    """The config column as stored, without the ORM's decryption."""
    async with db.system_session() as session:
        stored = await session.scalar(
            text("SELECT config FROM channels WHERE id = :id"), {"id": str(channel_id)}
        )
    assert isinstance(stored, str)
    return stored
