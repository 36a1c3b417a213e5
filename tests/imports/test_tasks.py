"""Large files: stored with the batch, queued in the request's transaction, run by a worker
(here: the task function, called directly), continued after a crash."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import JSONB

from herald.imports import pipeline, service, tasks
from herald.imports.models import ImportFilePart, ImportIssue
from herald.imports.repository import ImportRepository, MergeResult, exclusive_run
from herald.kit.database import Database
from herald.kit.errors import Conflict
from herald.worker import build_task_app
from tests.conftest import MakeTenant, TenantFixture, job_context
from tests.imports.helpers import add_contact, contacts_by_phone, csv_bytes, upload

ROWS = [f"+1212234{5000 + i:04d},Name {i},{'vip' if i % 2 else ''}" for i in range(40)]
BIG = csv_bytes(
    "phone,first_name,tags",
    *ROWS[:20],
    "oops,Bad,",
    ROWS[3],
    *ROWS[20:],
)
"""42 rows: 40 contacts, one bad number (line 22), one duplicate of line 5 (line 23)."""


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every upload goes to the worker; chunks of 7 rows, so a file spans several."""
    monkeypatch.setattr(service, "INLINE_MAX_BYTES", 0)
    monkeypatch.setattr(service, "PART_SIZE", 256)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 7)


async def _job_args(db: Database, batch_id: str) -> list[dict[str, Any]]:
    async with db.system_session() as session:
        rows = await session.execute(
            text(
                "SELECT task_name, queue_name, args FROM procrastinate_jobs "
                "WHERE args->>'batch_id' = :id"
            ),
            {"id": batch_id},
        )
        return [dict(r._mapping) for r in rows]


async def _parts(db: Database, batch_id: str) -> int:
    async with db.system_session() as session:
        count = await session.scalar(
            select(func.count()).where(ImportFilePart.batch_id == UUID(batch_id))
        )
        return int(count or 0)


async def _issues(db: Database, batch_id: str) -> list[tuple[int, str]]:
    async with db.system_session() as session:
        rows = await session.execute(
            select(ImportIssue.line, ImportIssue.reason)
            .where(ImportIssue.batch_id == UUID(batch_id))
            .order_by(ImportIssue.line)
        )
        return [(r.line, r.reason) for r in rows]


@pytest.mark.usefixtures("queued")
class TestBackground:
    async def test_queued_then_run_by_the_task(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        db: Database,
        database_url: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        response = await upload(client, tenant, BIG, tags="bulk")
        assert response.status_code == 202
        batch = response.json()
        assert batch["status"] == "pending"
        assert batch["total_rows"] == 42 and batch["processed_rows"] == 0
        assert await _job_args(db, batch["id"]) == [
            {
                "task_name": "imports:run_import",
                "queue_name": "imports",
                "args": {"batch_id": batch["id"]},
            }
        ]
        assert await _parts(db, batch["id"]) == len(BIG) // 256 + 1
        assert await contacts_by_phone(db, tenant.id) == {}

        counts = await tasks.run_import(job_context(db, "imports:run_import"), batch_id=batch["id"])
        assert counts == {
            "processed": 42,
            "created": 40,
            "updated": 0,
            "skipped": 1,
            "rejected": 1,
            "consent_kept": 0,
        }

        done = (await client.get(f"/v1/imports/{batch['id']}", headers=tenant.headers)).json()
        assert done["status"] == "completed"
        assert (done["total_rows"], done["processed_rows"], done["progress"]) == (42, 42, 1.0)
        assert done["seconds"] is not None and done["seconds"] >= 0
        assert await _parts(db, batch["id"]) == 0
        assert await _issues(db, batch["id"]) == [
            (22, "phone 'oops': not a phone number"),
            (23, "duplicate of line 5 (same phone +12122345003)"),
        ]
        contacts = await contacts_by_phone(db, tenant.id)
        assert len(contacts) == 40
        assert contacts["+12122345001"].tags == ["vip", "bulk"]

    def test_the_task_is_registered_under_the_queued_name(self, database_url: str) -> None:
        app = build_task_app(database_url)
        assert app.tasks["imports:run_import"] is tasks.run_import
        assert tasks.run_import.queue == service.TASK_QUEUE

    async def test_rerun_after_a_crash_converges(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        make_tenant: MakeTenant,
        db: Database,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        batch_id = (await upload(client, tenant, BIG)).json()["id"]
        real_merge = ImportRepository.merge
        calls = 0

        async def crashing_merge(*args: Any, **kwargs: Any) -> MergeResult:
            nonlocal calls
            calls += 1
            if calls == 4:
                raise ConnectionError("the database went away")
            return await real_merge(*args, **kwargs)

        monkeypatch.setattr(ImportRepository, "merge", crashing_merge)
        with pytest.raises(ConnectionError):
            await service.run_batch(db, UUID(batch_id))
        halfway = (await client.get(f"/v1/imports/{batch_id}", headers=tenant.headers)).json()
        assert halfway["status"] == "failed"
        assert halfway["error"] == (
            "The import stopped after row 21 (ConnectionError: the database went away); "
            "running it again continues."
        )
        assert halfway["processed_rows"] == 21  # three chunks of 7 committed, the fourth not
        assert (halfway["counts"]["created"], halfway["counts"]["rejected"]) == (20, 1)
        assert len(await contacts_by_phone(db, tenant.id)) == 20

        monkeypatch.setattr(ImportRepository, "merge", real_merge)
        await service.run_batch(db, UUID(batch_id))
        assert await service.run_batch(db, UUID(batch_id)) is None  # finished: left be
        done = (await client.get(f"/v1/imports/{batch_id}", headers=tenant.headers)).json()

        reference = await make_tenant("Reference")
        clean_id = (await upload(client, reference, BIG)).json()["id"]
        await service.run_batch(db, UUID(clean_id))
        clean = (await client.get(f"/v1/imports/{clean_id}", headers=reference.headers)).json()

        assert (done["status"], done["error"]) == ("completed", None)
        assert done["counts"] == clean["counts"]
        assert await _issues(db, batch_id) == await _issues(db, clean_id)
        assert set(await contacts_by_phone(db, tenant.id)) == set(
            await contacts_by_phone(db, reference.id)
        )

    async def test_one_run_at_a_time(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        batch_id = UUID((await upload(client, tenant, BIG)).json()["id"])
        async with exclusive_run(db.engine, batch_id) as mine:
            assert mine
            with pytest.raises(Conflict, match="running in another process"):
                await service.run_batch(db, batch_id)
            assert await contacts_by_phone(db, tenant.id) == {}
        assert (await service.run_batch(db, batch_id)) is not None
        assert len(await contacts_by_phone(db, tenant.id)) == 40

    async def test_a_file_unreadable_in_the_worker_fails_the_batch(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        db: Database,
    ) -> None:
        batch_id = (await upload(client, tenant, BIG)).json()["id"]
        async with db.system_session() as session:
            await session.execute(
                text(
                    "UPDATE import_batches SET options = options || :mapping WHERE id = :id"
                ).bindparams(bindparam("mapping", type_=JSONB)),
                {"id": batch_id, "mapping": {"mapping": {"x": "phone"}}},
            )
        assert await service.run_batch(db, UUID(batch_id)) is None
        failed = (await client.get(f"/v1/imports/{batch_id}", headers=tenant.headers)).json()
        assert failed["status"] == "failed"
        assert "not in the file: x" in failed["error"]
        assert await contacts_by_phone(db, tenant.id) == {}


class TestProcessPool:
    async def test_pool_gives_the_same_result_as_inline(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        db: Database,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(pipeline, "CHUNK_ROWS", 5)
        inline = (await upload(client, tenant, BIG)).json()
        monkeypatch.setattr(service, "INLINE_MAX_BYTES", 0)
        monkeypatch.setattr(service, "POOL_MIN_BYTES", 0)
        assert service.workers_for(len(BIG)) == 2
        pooled_id = (await upload(client, other_tenant, BIG, default_country="US")).json()["id"]
        await service.run_batch(db, UUID(pooled_id))
        pooled = (await client.get(f"/v1/imports/{pooled_id}", headers=other_tenant.headers)).json()
        assert pooled["counts"] == inline["counts"]
        assert await _issues(db, pooled_id) == await _issues(db, inline["id"])
        assert set(await contacts_by_phone(db, other_tenant.id)) == set(
            await contacts_by_phone(db, tenant.id)
        )

    async def test_an_existing_contact_met_mid_file_switches_inserts_to_merges(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        db: Database,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The first chunks go in as plain inserts; the chunk holding an existing number
        fails on the unique index, is rolled back to its savepoint and merged, and so is
        every later chunk, with two writers at once."""
        monkeypatch.setattr(pipeline, "CHUNK_ROWS", 5)
        monkeypatch.setattr(service, "INLINE_MAX_BYTES", 0)
        monkeypatch.setattr(service, "POOL_MIN_BYTES", 0)
        merged: list[bool] = []
        original = ImportRepository.merge

        async def spy(*args: Any, **kwargs: Any) -> MergeResult:
            merged.append(not kwargs["new_only"])
            return await original(*args, **kwargs)

        monkeypatch.setattr(ImportRepository, "merge", spy)
        existing = await add_contact(db, tenant.id, phone_e164="+12122345030", first_name="Old")
        batch_id = (await upload(client, tenant, BIG)).json()["id"]

        await service.run_batch(db, UUID(batch_id))

        done = (await client.get(f"/v1/imports/{batch_id}", headers=tenant.headers)).json()
        assert (done["counts"]["created"], done["counts"]["updated"]) == (39, 1)
        contacts = await contacts_by_phone(db, tenant.id)
        assert len(contacts) == 40
        assert contacts["+12122345030"].id == existing.id
        assert contacts["+12122345030"].first_name == "Name 30"
        assert merged[:4] == [False] * 4 and merged[-1] is True
