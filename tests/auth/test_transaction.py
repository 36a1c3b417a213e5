"""The request's transaction commits before the response leaves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.conftest import TenantFixture


@pytest.fixture
def commits() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_session: Session) -> None:
        seen.append("commit")

    event.listen(Session, "after_commit", record)
    yield seen
    event.remove(Session, "after_commit", record)


async def test_commit_precedes_the_response(
    app: FastAPI, tenant: TenantFixture, commits: list[str]
) -> None:
    async def recording(scope: Any, receive: Any, send: Any) -> None:
        async def send_and_note(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                commits.append(f"response {message['status']}")
            await send(message)

        await app(scope, receive, send_and_note)

    transport = httpx.ASGITransport(app=recording)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as client:
        response = await client.patch(
            "/v1/tenant", json={"name": "Committed first"}, headers=tenant.headers
        )
    assert response.status_code == 200
    assert commits == ["commit", "response 200"]
