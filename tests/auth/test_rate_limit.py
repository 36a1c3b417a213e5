from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from herald.app import create_app
from herald.kit.database import Database
from herald.kit.ratelimit import WINDOW, RateLimitHit, remaining_share
from herald.settings import Settings
from tests.auth.support import MakeUser, client_for, signed_in
from tests.conftest import TenantFixture

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


class TestSlidingWindow:
    def test_previous_minute_weighs_by_what_is_left_of_it(self) -> None:
        window = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        assert remaining_share(window, window) == 1.0
        assert remaining_share(window, window + timedelta(seconds=15)) == 0.75
        assert remaining_share(window, window + timedelta(seconds=59)) == pytest.approx(1 / 60)

    async def test_a_burst_just_before_the_minute_still_counts(
        self, strict_app_client: httpx.AsyncClient, db: Database
    ) -> None:
        """Seeds the minute before the database's current one; should the request land in the
        next minute, the seed was two minutes back and the attempt is repeated."""
        for _ in range(3):
            email = f"burst-{uuid4().hex}@example.com"
            window = await _current_minute(db)
            async with db.system_session() as session:
                session.add(
                    RateLimitHit(
                        scope="login", subject=email, window_start=window - WINDOW, hits=10**9
                    )
                )
            body = {"email": email, "password": "whatever12"}
            response = await strict_app_client.post("/v1/auth/login", json=body)
            if await _current_minute(db) == window:
                break
        assert response.status_code == 429


async def _current_minute(db: Database) -> datetime:
    async with db.system_session() as session:
        window = await session.scalar(select(func.date_trunc("minute", func.now())))
    assert window is not None
    return window


async def test_password_change_is_limited(
    settings: Settings, db: Database, tenant: TenantFixture, make_user: MakeUser
) -> None:
    app = create_app(settings.model_copy(update={"auth_rate_limit_per_minute": LIMIT}), db)
    person = await make_user(tenant.id)
    async with client_for(app) as client:
        headers = await signed_in(client, person)
        body = {"current_password": "wrong guess!", "new_password": "a-new-password-1"}
        statuses = [
            (await client.post("/v1/auth/password", json=body, headers=headers)).status_code
            for _ in range(LIMIT + 1)
        ]
    assert statuses == [403] * LIMIT + [429]
