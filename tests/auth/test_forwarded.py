"""The per-IP sign-in limit counts the real client: a forged X-Forwarded-For does not reset it,
and behind a configured proxy each forwarded client has its own count."""

from __future__ import annotations

from ipaddress import ip_network
from uuid import uuid4

import httpx
from fastapi import FastAPI

from herald.app import create_app
from herald.kit.database import Database
from herald.settings import Settings
from tests.auth.support import client_for
from tests.conftest import TenantFixture

LIMIT = 2


async def _login(client: httpx.AsyncClient, forwarded_for: str) -> int:
    body = {"email": f"ghost-{uuid4().hex}@example.com", "password": "whatever12"}
    headers = {"X-Forwarded-For": forwarded_for}
    return (await client.post("/v1/auth/login", json=body, headers=headers)).status_code


def _strict(settings: Settings, db: Database, **update: object) -> FastAPI:
    return create_app(
        settings.model_copy(update={"auth_rate_limit_per_minute": LIMIT, **update}), db
    )


async def test_a_forged_header_does_not_reset_the_limit(settings: Settings, db: Database) -> None:
    async with client_for(_strict(settings, db), ip="127.0.0.1") as client:
        statuses = [await _login(client, f"198.51.100.{n}") for n in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]


async def test_clients_behind_a_trusted_proxy_are_counted_apart(
    settings: Settings, db: Database
) -> None:
    proxy = f"10.77.{uuid4().int % 250}.{uuid4().int % 250}"
    app = _strict(settings, db, trusted_proxies=[ip_network(proxy)])
    first, second = (f"203.0.113.{uuid4().int % 250}" for _ in range(2))
    async with client_for(app, ip=proxy) as client:
        statuses = [await _login(client, first) for _ in range(LIMIT + 1)]
        other = await _login(client, second if second != first else "192.0.2.1")
    assert statuses == [401] * LIMIT + [429]
    assert other == 401


async def _audited_ip(
    app: FastAPI, peer: str, forwarded_for: str, tenant: TenantFixture
) -> str | None:
    """The IP the audit log records for a segment created through ``peer``."""
    name = f"seg-{uuid4().hex[:8]}"
    async with client_for(app, ip=peer) as client:
        created = await client.post(
            "/v1/segments",
            json={"preset": "all", "name": name},
            headers={**tenant.headers, "X-Forwarded-For": forwarded_for},
        )
        assert created.status_code == 201, created.text
        entries = await client.get(
            "/v1/audit-log",
            params={"resource_id": created.json()["id"]},
            headers=tenant.headers,
        )
    [entry] = entries.json()["items"]
    ip: str | None = entry["ip"]
    return ip


async def test_the_audit_log_records_the_real_client(
    settings: Settings, db: Database, tenant: TenantFixture
) -> None:
    direct = create_app(settings, db)
    assert await _audited_ip(direct, "192.0.2.10", "198.51.100.7", tenant) == "192.0.2.10"
    proxied = create_app(
        settings.model_copy(update={"trusted_proxies": [ip_network("10.0.0.0/8")]}), db
    )
    assert await _audited_ip(proxied, "10.0.0.2", "198.51.100.7", tenant) == "198.51.100.7"
