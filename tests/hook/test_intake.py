"""The accept path's group commit: callbacks stored together, each told what became of its
own row; a group that fails stores nothing and answers 503; one bad callback fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest_asyncio
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from herald.app import create_app
from herald.channel.models import Channel
from herald.hook.intake import Intake, Outcome
from herald.hook.models import WebhookEvent
from herald.hook.repository import Incoming, Written, store_events
from herald.hook.service import dedupe_key
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.providers.registry import PROVIDERS
from herald.settings import Settings
from tests.conftest import TenantFixture
from tests.hook.helpers import (
    CONFIGS,
    FORM,
    Callback,
    make_channel,
    stored_events,
    twilio_status,
)

LOCK_TIMEOUT_MS = 300


def _incoming(
    channel: Channel, key: str, now: datetime, *, event_id: str | None = None
) -> Incoming:
    return Incoming(
        tenant_id=channel.tenant_id,
        channel_id=channel.id,
        provider=channel.provider,
        dedupe_key=key,
        event_ids=[event_id or key],
        content_type="application/json",
        payload=f'{{"id": "{key}"}}'.encode(),
        received_at=now,
    )


async def _one_group(intake: Intake, events: list[Incoming]) -> list[Outcome]:
    """Hand every event over before the writer runs, so they form one group."""
    return list(await asyncio.gather(*(intake.store(event) for event in events)))


@pytest_asyncio.fixture
async def impatient_db(database_url: str) -> AsyncIterator[Database]:
    """The test database, but a statement that waits for a lock gives up quickly."""
    separator = "&" if "?" in database_url else "?"
    options = f"options=-c%20lock_timeout%3D{LOCK_TIMEOUT_MS}"
    database = Database(f"{database_url}{separator}{options}", pool_size=2)
    yield database
    await database.dispose()


@dataclass(frozen=True)
class Held:
    """A Twilio channel, a signed status callback for it, and that callback's key, which
    another transaction is inserting and has not committed: a write of it waits."""

    channel: Channel
    callback: Callback
    key: str


@pytest_asyncio.fixture
async def held(db: Database, tenant: TenantFixture) -> AsyncIterator[Held]:
    channel = await make_channel(db, tenant.id, "twilio")
    callback = twilio_status(channel.id, "SMheld", "delivered")
    twilio = PROVIDERS["twilio"]
    events = twilio.parse(
        twilio.config_schema.model_validate(CONFIGS["twilio"]), callback.body, FORM
    )
    key = dedupe_key([event.event_id for event in events], callback.body)
    async with db.engine.connect() as connection:
        transaction = await connection.begin()
        await store_events(connection, [_incoming(channel, key, utcnow())])
        yield Held(channel, callback, key)
        await transaction.rollback()


async def test_a_replay_in_the_same_group_is_stored_once(
    db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    now = utcnow()
    intake = Intake(db, writers=1)

    outcomes = await _one_group(
        intake,
        [
            _incoming(channel, "e1", now),
            _incoming(channel, "e1", now),
            _incoming(channel, "e2", now),
        ],
    )

    assert sorted(o.stored for o in outcomes[:2] if isinstance(o, Written)) == [False, True]
    assert outcomes[2] == Written(stored=True, channel_live=True)
    assert sorted(e.dedupe_key for e in await stored_events(db, channel.id)) == ["e1", "e2"]


async def test_a_replay_of_a_stored_callback_changes_nothing(
    db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    intake = Intake(db)
    await intake.store(_incoming(channel, "e1", utcnow()))
    [before] = await stored_events(db, channel.id)

    again = await intake.store(_incoming(channel, "e1", utcnow()))

    assert again == Written(stored=False, channel_live=True)
    [after] = await stored_events(db, channel.id)
    assert (after.id, after.received_at) == (before.id, before.received_at)


async def test_a_callback_handed_over_as_the_writer_finishes_is_written(
    db: Database, tenant: TenantFixture
) -> None:
    """Each store starts right after the previous one was answered, while the writer that
    answered it is finishing: it must still be written, never left waiting."""
    channel = await make_channel(db, tenant.id, "simulator")
    intake = Intake(db, writers=1)

    async def one_after_another() -> list[Outcome]:
        return [await intake.store(_incoming(channel, f"s{i}", utcnow())) for i in range(5)]

    outcomes = await asyncio.wait_for(one_after_another(), timeout=30)

    assert outcomes == [Written(stored=True, channel_live=True)] * 5


async def test_two_tenants_channels_in_one_group_stay_apart(
    db: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    ours = await make_channel(db, tenant.id, "simulator")
    theirs = await make_channel(db, other_tenant.id, "simulator")
    now = utcnow()

    outcomes = await _one_group(
        Intake(db), [_incoming(ours, "same-id", now), _incoming(theirs, "same-id", now)]
    )

    assert outcomes == [Written(stored=True, channel_live=True)] * 2
    [our_event] = await stored_events(db, ours.id)
    [their_event] = await stored_events(db, theirs.id)
    assert (our_event.tenant_id, their_event.tenant_id) == (tenant.id, other_tenant.id)
    async with db.tenant_session(tenant.id) as session:  # row-level security, no filter
        visible = set(await session.scalars(select(WebhookEvent.channel_id)))
    assert ours.id in visible and theirs.id not in visible


async def test_a_deleted_channel_fails_only_its_own_callback(
    db: Database, tenant: TenantFixture
) -> None:
    kept = await make_channel(db, tenant.id, "simulator")
    gone = await make_channel(db, tenant.id, "simulator")
    async with db.system_session() as session:
        await session.execute(text("DELETE FROM channels WHERE id = :id"), {"id": gone.id})
    now = utcnow()

    outcomes = await _one_group(
        Intake(db), [_incoming(gone, "g1", now), _incoming(kept, "k1", now)]
    )

    assert outcomes == [
        Written(stored=False, channel_live=False),
        Written(stored=True, channel_live=True),
    ]
    assert [e.dedupe_key for e in await stored_events(db, kept.id)] == ["k1"]


async def test_one_bad_callback_fails_alone_and_the_rest_of_its_group_is_stored(
    db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    now = utcnow()
    too_long = "x" * 300  # event ids are at most 200 characters

    outcomes = await _one_group(
        Intake(db),
        [
            _incoming(channel, "ok-1", now),
            _incoming(channel, "bad", now, event_id=too_long),
            _incoming(channel, "ok-2", now),
        ],
    )

    assert isinstance(outcomes[1], DBAPIError)
    assert outcomes[0] == outcomes[2] == Written(stored=True, channel_live=True)
    assert sorted(e.dedupe_key for e in await stored_events(db, channel.id)) == ["ok-1", "ok-2"]


async def test_a_group_that_fails_stores_none_of_its_callbacks(
    db: Database, impatient_db: Database, held: Held
) -> None:
    now = utcnow()

    outcomes = await _one_group(
        Intake(impatient_db),
        [_incoming(held.channel, "first", now), _incoming(held.channel, held.key, now)],
    )

    assert all(isinstance(outcome, DBAPIError) for outcome in outcomes)
    assert await stored_events(db, held.channel.id) == []  # "first" was rolled back too


async def test_a_callback_that_cannot_be_stored_answers_503_for_the_provider_to_retry(
    settings: Settings, db: Database, impatient_db: Database, held: Held
) -> None:
    app = create_app(settings, impatient_db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as client:
        answer = await client.post(
            held.callback.path, content=held.callback.body, headers=held.callback.headers
        )

    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 503 and answer.headers["x-request-id"]
    assert await stored_events(db, held.channel.id) == []
