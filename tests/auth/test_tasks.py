from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from herald.auth import tasks
from herald.auth.models import MagicLinkToken, RefreshToken
from herald.auth.repository import purge_expired
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.ratelimit import RateLimitHit
from herald.user.models import Invitation
from herald.worker import build_task_app
from tests.auth.support import MakeUser
from tests.conftest import TenantFixture, job_context


async def _seed(db: Database, tenant: TenantFixture, user_id: object) -> dict[str, object]:
    """One row of each kind that must go and one that must stay; their keys."""
    now = datetime.now(UTC)
    past, future = now - timedelta(minutes=1), now + timedelta(days=1)

    def refresh(expires: datetime) -> RefreshToken:
        return RefreshToken(
            tenant_id=tenant.id,
            user_id=user_id,
            family_id=uuid4(),
            token_hash=uuid4().hex,
            expires_at=expires,
        )

    def invitation(expires: datetime) -> Invitation:
        return Invitation(
            tenant_id=tenant.id,
            email=f"{uuid4().hex}@example.com",
            role=Role.agent,
            token_hash=uuid4().hex,
            expires_at=expires,
        )

    rows: dict[str, RefreshToken | MagicLinkToken | Invitation] = {
        "refresh_gone": refresh(past),
        "refresh_kept": refresh(future),
        "magic_gone": MagicLinkToken(
            user_id=user_id, token_hash=uuid4().hex, expires_at=future, used_at=now
        ),
        "magic_kept": MagicLinkToken(user_id=user_id, token_hash=uuid4().hex, expires_at=future),
        "invitation_gone": invitation(past),
        "invitation_kept": invitation(future),
    }
    subject = uuid4().hex
    async with db.system_session() as session:
        session.add_all(rows.values())
        session.add_all(
            [
                RateLimitHit(
                    scope="test", subject=subject, window_start=now - timedelta(hours=1), hits=3
                ),
                RateLimitHit(
                    scope="test", subject=subject, window_start=now + timedelta(minutes=1), hits=1
                ),
            ]
        )
        await session.flush()
        return {name: row.id for name, row in rows.items()} | {"subject": subject}


class TestPurgeExpired:
    async def test_deletes_only_dead_rows(
        self, db: Database, tenant: TenantFixture, make_user: MakeUser
    ) -> None:
        person = await make_user(tenant.id)
        ids = await _seed(db, tenant, person.id)
        async with db.system_session() as session:
            counts = await purge_expired(session, datetime.now(UTC))
        assert all(counts[kind] >= 1 for kind in counts)
        async with db.system_session() as session:
            left = {
                *await session.scalars(select(RefreshToken.id)),
                *await session.scalars(select(MagicLinkToken.id)),
                *await session.scalars(select(Invitation.id)),
            }
            windows = list(
                await session.scalars(
                    select(RateLimitHit.hits).where(RateLimitHit.subject == ids["subject"])
                )
            )
        for name, row_id in ids.items():
            if name.endswith("_gone"):
                assert row_id not in left, name
            elif name.endswith("_kept"):
                assert row_id in left, name
        assert windows == [1]


class TestCleanupTask:
    def test_registered_and_periodic(self, database_url: str) -> None:
        app = build_task_app(database_url)
        assert "auth:cleanup" in app.tasks
        periodic = app.periodic_registry.periodic_tasks[("auth:cleanup", "cleanup")]
        assert periodic.cron == "*/10 * * * *"

    async def test_runs(
        self,
        database_url: str,
        monkeypatch: pytest.MonkeyPatch,
        tenant: TenantFixture,
        make_user: MakeUser,
        db: Database,
    ) -> None:
        person = await make_user(tenant.id)
        ids = await _seed(db, tenant, person.id)
        counts = await tasks.cleanup.func(job_context(db, "auth:cleanup"), timestamp=0)
        assert counts["refresh_tokens"] >= 1
        async with db.system_session() as session:
            assert await session.get(RefreshToken, ids["refresh_gone"]) is None
