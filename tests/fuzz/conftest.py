"""The API served by uvicorn in a process of its own, against this run's database, for the
fuzzer: it talks to a live server over real HTTP, as a client generated from the document
would."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio

from herald.app import create_app
from herald.kit.context import Role
from herald.kit.crypto import Keyring, use_keyring
from herald.kit.database import Database
from herald.settings import Settings
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate
from tests.conftest import TenantFixture
from tests.sim.server import free_port

STARTUP_SECONDS = 60.0


def api_document() -> dict[str, Any]:
    """The document the API serves, built without a server (the fuzzer's cases are generated
    at collection time); ``test_openapi`` proves the live server serves this very document."""
    scratch = Path(tempfile.mkdtemp(prefix="herald-openapi-"))
    settings = Settings(database_url="postgresql://unused/unused", data_dir=scratch, demo=False)
    with use_keyring(Keyring.generate()):  # create_app installs its own; put the run's back
        return create_app(settings).openapi()


@dataclass(frozen=True)
class LiveApi:
    url: str
    log: Path

    def log_size(self) -> int:
        return self.log.stat().st_size

    def problems_since(self, offset: int) -> str:
        """What the server logged after ``offset``, access lines left out: the traceback of a
        500 is there, not in the response."""
        with self.log.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
        return "\n".join(line for line in lines if '"event": "request"' not in line)


@pytest.fixture(scope="session")
def live_api(
    database_url: str, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveApi]:
    port = free_port()
    log = tmp_path_factory.mktemp("live-api") / "api.log"
    env = {
        **os.environ,
        "HERALD_DATABASE_URL": database_url,
        "HERALD_DATA_DIR": str(settings.data_dir),
        "HERALD_SECRET_KEY": settings.secret_key.get_secret_value() if settings.secret_key else "",
        "HERALD_DEMO": "false",
    }
    env.pop("HERALD_ENCRYPTION_KEYS", None)
    command = [sys.executable, "-m", "uvicorn", "herald.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        # our own interpreter and a constant command
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(url, process, log)
        yield LiveApi(url, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The API exited at startup:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"The API did not answer within {STARTUP_SECONDS}s:\n{log.read_text()}")


@dataclass(frozen=True)
class Keys:
    """A tenant of the fuzzer's own, with an API key per role."""

    tenant: TenantFixture
    by_role: dict[Role, dict[str, str]]


@pytest_asyncio.fixture(scope="session")
async def fuzz_keys(db: Database) -> Keys:
    """Made once for the whole run (the per-test ``make_tenant`` would make one per case)."""
    email = f"owner-{uuid4().hex[:12]}@example.com"
    async with db.system_session() as session:
        done = await onboard_tenant(session, TenantCreate(name="Fuzzed Shop"), email)
    tenant = TenantFixture(done.tenant.id, done.owner.id, email, done.api_key.secret, db)
    by_role = {role: await tenant.key_for(role) for role in Role}
    return Keys(tenant, by_role)
