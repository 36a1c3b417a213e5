"""Fixtures and helpers shared by the sign-in and member tests (imported by their conftests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.mailer import MemoryMailer
from herald.kit.passwords import hash_password
from herald.user.models import User
from herald.user.service import add_member

PASSWORD = "correct horse battery"


def client_for(app: FastAPI, ip: str | None = None) -> httpx.AsyncClient:
    """A client calling from its own address, so per-IP rate limits never couple tests."""
    ip = ip or f"10.{uuid4().int % 250}.{uuid4().int % 250}.{uuid4().int % 250}"
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://herald.test")


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


@pytest.fixture
def mailer(app: FastAPI) -> Iterator[MemoryMailer]:
    """Captures the app's mail for the test."""
    previous = getattr(app.state, "mailer", None)
    app.state.mailer = MemoryMailer()
    yield app.state.mailer
    app.state.mailer = previous


@dataclass
class Person:
    id: UUID
    email: str
    password: str


MakeUser = Callable[..., Awaitable[Person]]


@pytest.fixture
def make_user(db: Database) -> MakeUser:
    """A user with a password and a membership in each tenant given, with ``role``."""

    async def make(*tenant_ids: UUID, role: Role = Role.agent) -> Person:
        email = f"user-{uuid4().hex[:12]}@example.com"
        async with db.system_session() as session:
            user = User(email=email, password_hash=hash_password(PASSWORD))
            session.add(user)
            await session.flush()
            for tenant_id in tenant_ids:
                await add_member(session, tenant_id, user.id, role)
        return Person(user.id, email, PASSWORD)

    return make


async def login(
    client: httpx.AsyncClient, person: Person, tenant_id: UUID | None = None
) -> dict[str, Any]:
    """The token pair of a successful sign-in."""
    body: dict[str, str] = {"email": person.email, "password": person.password}
    if tenant_id is not None:
        body["tenant_id"] = str(tenant_id)
    response = await client.post("/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signed_in(client: httpx.AsyncClient, person: Person) -> dict[str, str]:
    """Headers carrying a fresh access token of ``person``."""
    return bearer((await login(client, person))["access_token"])
