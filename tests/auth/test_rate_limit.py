from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest_asyncio

from herald.app import create_app
from herald.kit.database import Database
from herald.settings import Settings
from tests.auth.support import client_for

LIMIT = 2


@pytest_asyncio.fixture
async def strict_app_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A separate app allowing two attempts a minute; a fresh client address per test."""
    app = create_app(settings.model_copy(update={"auth_rate_limit_per_minute": LIMIT}), db)
    async with client_for(app) as client:
        yield client


class TestRateLimit:
    async def test_login_over_the_limit(self, strict_app_client: httpx.AsyncClient) -> None:
        body = {"email": f"ghost-{uuid4().hex}@example.com", "password": "whatever12"}
        for _ in range(LIMIT):
            response = await strict_app_client.post("/v1/auth/login", json=body)
            assert response.status_code == 401
        response = await strict_app_client.post("/v1/auth/login", json=body)
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert "wait" in response.json()["detail"]

    async def test_per_email_across_addresses(self, settings: Settings, db: Database) -> None:
        """The email is counted too, so rotating client addresses does not help."""
        app = create_app(settings.model_copy(update={"auth_rate_limit_per_minute": LIMIT}), db)
        body = {"email": f"target-{uuid4().hex}@example.com"}
        statuses = []
        for _ in range(LIMIT + 1):
            async with client_for(app) as client:
                statuses.append((await client.post("/v1/auth/magic-link", json=body)).status_code)
        assert statuses == [202] * LIMIT + [429]

    async def test_refresh_and_verify_are_limited(
        self, strict_app_client: httpx.AsyncClient
    ) -> None:
        for path, body in (
            ("/v1/auth/refresh", {"refresh_token": "x"}),
            ("/v1/auth/magic-link/verify", {"token": "x"}),
        ):
            codes = [
                (await strict_app_client.post(path, json=body)).status_code
                for _ in range(LIMIT + 1)
            ]
            assert codes == [401] * LIMIT + [429]
