"""Test fixtures: one real PostgreSQL per test session, migrated from scratch.

The embedded server (data in ``.herald-test/``) is used unless ``HERALD_TEST_DATABASE_URL``
points at another server. Tests commit for real, as the application does; they stay apart by
creating their own tenants (``make_tenant``), never by sharing rows.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import psycopg
import pytest
import pytest_asyncio
from fastapi import FastAPI
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job
from psycopg import sql

from herald.app import create_app
from herald.auth.service import issue_api_key
from herald.kit.context import Role
from herald.kit.crypto import Keyring, load_keyring, use_keyring
from herald.kit.database import Database, normalize_url
from herald.kit.embedded import (
    ensure_database,
    is_running,
    start_embedded,
    stop_embedded,
    to_libpq_url,
)
from herald.kit.jobs import WorkerResources, worker_context
from herald.migrations import upgrade
from herald.settings import Settings, get_settings
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate
from herald.worker import build_task_app

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA_DIR = ROOT / ".herald-test"
TEST_DATABASE_PREFIX = "herald_test_"


def _admin_url(url: str) -> str:
    base, _, query = to_libpq_url(url).partition("?")
    head = base.rsplit("/", 1)[0]
    return f"{head}/postgres" + (f"?{query}" if query else "")


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A freshly created, fully migrated database of this test run's own.

    Test runs may overlap (several terminals): each gets a database named after its pid, and
    the embedded server is stopped only by the run that started it, once no other run's
    database is left on it.
    """
    external = os.environ.get("HERALD_TEST_DATABASE_URL")
    started_here = False
    if external:
        server_url = normalize_url(external)
    else:
        started_here = not is_running(TEST_DATA_DIR)
        server_url = start_embedded(TEST_DATA_DIR, "postgres")
    name = f"{TEST_DATABASE_PREFIX}{os.getpid()}"
    admin_url = _admin_url(server_url)
    ensure_database(admin_url, name, recreate=True)
    url = _with_database(server_url, name)
    upgrade(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        others = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s", (TEST_DATABASE_PREFIX + "%",)
        ).fetchone()
    if started_here and others is not None and others[0] == 0:
        stop_embedded(TEST_DATA_DIR)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("herald-data"),
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        demo=False,
    )


@pytest.fixture(scope="session")
def session_keyring(settings: Settings) -> Keyring:
    return load_keyring(settings)


@pytest.fixture(autouse=True)
def keyring(session_keyring: Keyring) -> Iterator[Keyring]:
    """Every test runs under this run's keyring, whatever an earlier test installed: an app
    or a benchmark built with other settings installs its own, and a value encrypted under
    one keyring cannot be read under another (a worker process reads this run's data dir)."""
    with use_keyring(session_keyring):
        yield session_keyring


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, settings: Settings
) -> Iterator[None]:
    """Point command-line commands run in the test at this run's database and data dir (where
    the app's keyring is)."""
    monkeypatch.setenv("HERALD_DATABASE_URL", database_url)
    monkeypatch.setenv("HERALD_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("HERALD_ENCRYPTION_KEYS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest_asyncio.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=5)
    yield database
    await database.dispose()


def job_context(db: Database, task_name: str) -> JobContext:
    """The context a worker hands a job (``pass_context=True``), with this run's database as
    the worker's shared resources: for calling a task's function directly."""
    job = Job(id=0, queue="tests", lock=None, queueing_lock=None, task_name=task_name)
    return JobContext(
        app=build_task_app(db.url),
        job=job,
        start_timestamp=0.0,
        abort_reason=lambda: None,
        additional_context=worker_context(WorkerResources(db=db)),
    )


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> FastAPI:
    """The API, with the task app bound as its lifespan binds it (requests defer jobs)."""
    build_task_app(db.url)
    return create_app(settings, db)


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
        yield c


@dataclass
class TenantFixture:
    """A tenant with its owner and an owner API key, ready for requests."""

    id: UUID
    owner_id: UUID
    owner_email: str
    api_key: str
    db: Database

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def key_for(self, role: Role) -> dict[str, str]:
        """Headers carrying a fresh API key of ``role`` in this tenant."""
        async with self.db.tenant_session(self.id) as session:
            issued = await issue_api_key(session, self.id, f"{role} key", role)
        return {"Authorization": f"Bearer {issued.secret}"}


MakeTenant = Callable[..., Awaitable[TenantFixture]]


@pytest.fixture
def make_tenant(db: Database) -> MakeTenant:
    async def make(name: str = "Shop", country: str = "US", timezone: str = "UTC") -> TenantFixture:
        email = f"owner-{uuid4().hex[:12]}@example.com"
        data = TenantCreate(name=name, country=country, timezone=timezone)
        async with db.system_session() as session:
            done = await onboard_tenant(session, data, email)
        return TenantFixture(done.tenant.id, done.owner.id, email, done.api_key.secret, db)

    return make


@pytest_asyncio.fixture
async def tenant(make_tenant: MakeTenant) -> TenantFixture:
    return await make_tenant("First Shop")


@pytest_asyncio.fixture
async def other_tenant(make_tenant: MakeTenant) -> TenantFixture:
    return await make_tenant("Second Shop", country="GB", timezone="Europe/London")
