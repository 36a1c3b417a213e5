from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from herald.kit.database import Database
from herald.settings import Settings
from herald.user.models import User
from tests.auth.support import MakeUser, Person
from tests.conftest import TenantFixture


async def _attempt(client: httpx.AsyncClient, person: Person, password: str) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"email": person.email, "password": password})


def _without_request_id(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body.pop("request_id")
    return body


async def _user(db: Database, person: Person) -> User:
    async with db.system_session() as session:
        user = await session.get(User, person.id)
    assert user is not None
    return user


class TestLockout:
    async def test_engages_after_the_threshold(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        make_user: MakeUser,
        settings: Settings,
        db: Database,
    ) -> None:
        person = await make_user(tenant.id)
        for _ in range(settings.lockout_threshold):
            assert (await _attempt(client, person, "wrong password")).status_code == 401
        assert (await _user(db, person)).locked_until is not None
        locked = await _attempt(client, person, person.password)
        assert locked.status_code == 401
        assert "locked" in locked.json()["detail"] and "magic link" in locked.json()["detail"]

    async def test_a_locked_account_answers_alike_for_every_password(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        make_user: MakeUser,
        settings: Settings,
        db: Database,
    ) -> None:
        """Were the right password answered apart, guessing could go on during the lock and the
        lock would confirm the right guess."""
        person = await make_user(tenant.id)
        for _ in range(settings.lockout_threshold):
            await _attempt(client, person, "wrong password")
        right = await _attempt(client, person, person.password)
        wrong = await _attempt(client, person, "yet another guess")
        assert right.status_code == wrong.status_code == 401
        assert _without_request_id(right) == _without_request_id(wrong)
        assert dict(right.headers).keys() == dict(wrong.headers).keys()
        user = await _user(db, person)
        assert user.failed_login_attempts == 0 and user.last_login_at is None

    async def test_a_lock_looks_like_a_wrong_password_to_a_guesser(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        make_user: MakeUser,
        settings: Settings,
    ) -> None:
        person = await make_user(tenant.id)
        for _ in range(settings.lockout_threshold + 2):
            await _attempt(client, person, "wrong password")
        guess = await _attempt(client, person, "another guess")
        unknown = await client.post(
            "/v1/auth/login", json={"email": "nobody-here@example.com", "password": "x" * 12}
        )
        assert guess.status_code == unknown.status_code == 401
        assert guess.json()["detail"] == unknown.json()["detail"]

    async def test_expired_lock_lets_the_user_in(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser, db: Database
    ) -> None:
        person = await make_user(tenant.id)
        async with db.system_session() as session:
            await session.execute(
                update(User)
                .where(User.id == person.id)
                .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert (await _attempt(client, person, person.password)).status_code == 200
        user = await _user(db, person)
        assert user.locked_until is None
        assert user.last_login_at is not None

    async def test_success_resets_the_count(
        self, client: httpx.AsyncClient, tenant: TenantFixture, make_user: MakeUser, db: Database
    ) -> None:
        person = await make_user(tenant.id)
        await _attempt(client, person, "wrong password")
        await _attempt(client, person, "wrong password")
        assert (await _user(db, person)).failed_login_attempts == 2
        assert (await _attempt(client, person, person.password)).status_code == 200
        assert (await _user(db, person)).failed_login_attempts == 0

    async def test_other_users_are_not_affected(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        make_user: MakeUser,
        settings: Settings,
    ) -> None:
        person = await make_user(tenant.id)
        bystander = await make_user(other_tenant.id)
        for _ in range(settings.lockout_threshold):
            await _attempt(client, person, "wrong password")
        assert (await _attempt(client, bystander, bystander.password)).status_code == 200
