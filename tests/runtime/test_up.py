"""``herald up`` for real: a subprocess with its own data dir, embedded PostgreSQL and ports."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from herald.runtime.supervisor import WORKER_SHUTDOWN_TIMEOUT, herald_command

START_TIMEOUT = 120.0
KEY_LINE = re.compile(r"Authorization: Bearer (\S+)' (\S+)/v1/tenant")
SEND_LINE = re.compile(
    r"Authorization: Bearer (\S+)' -H 'Content-Type: application/json' -d '([^']+)' "
    r"(\S+/v1/messages)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    data_dir: Path
    output: Path
    api: str
    sim: str

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])

    def wait_for_banner(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output.read_text()
            text = self.output.read_text()
            if "Try: curl" in text:
                return text
            time.sleep(0.2)
        raise AssertionError(f"herald up did not get ready:\n{self.output.read_text()}")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data dir any user can traverse to: run as root, the embedded PostgreSQL drops to
    an unprivileged user, who cannot enter pytest's private temp dirs to stop it."""
    path = Path(tempfile.mkdtemp(prefix="herald-up-"))
    path.chmod(0o755)
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def up(tmp_path: Path, data_dir: Path) -> Iterator[Up]:
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env |= {
        "HERALD_DATA_DIR": str(data_dir),
        "HERALD_HOST": "127.0.0.1",
        "HERALD_PORT": str(api_port),
        "HERALD_DEMO": "true",
    }
    output = tmp_path / "up.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603
            herald_command(["up"]), env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    running = Up(
        process,
        data_dir,
        output,
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{api_port}/sim",
    )
    yield running
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def _exited(pid: int) -> bool:
    """Gone, or a zombie: exited, waiting for a reaper (an orphaned postmaster's is init)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _all_gone(pids: list[int]) -> bool:
    return all(_exited(pid) for pid in pids)


def test_up_serves_everything_and_ctrl_c_leaves_no_process(up: Up) -> None:
    banner = up.wait_for_banner()
    match = KEY_LINE.search(banner)
    assert match is not None, banner
    key, api = match.groups()
    assert api == up.api

    assert httpx.get(f"{up.api}/readyz").status_code == 200
    tenant = httpx.get(f"{up.api}/v1/tenant", headers={"Authorization": f"Bearer {key}"})
    assert tenant.status_code == 200
    assert httpx.get(f"{up.sim}/healthz").status_code == 200
    assert f"Simulator  {up.sim}" in banner
    _send_one_sms_as_the_banner_shows(up, banner)
    children = up.children()
    assert {p.cmdline()[-1] for p in children} == {"api", str(WORKER_SHUTDOWN_TIMEOUT)}
    assert len(children) == 2
    pids = [p.pid for p in up.children()] + [up.postmaster_pid()]

    up.process.send_signal(signal.SIGINT)

    assert up.process.wait(timeout=60) == 0
    assert _all_gone(pids)
    assert "did not stop in time" not in up.output.read_text()
    assert not (up.data_dir / "postgres" / "postmaster.pid").exists()


def _send_one_sms_as_the_banner_shows(up: Up, banner: str) -> None:
    """The newcomer's first message: the banner's curl line, then the worker sends it to the
    simulator mounted by the API."""
    match = SEND_LINE.search(banner)
    assert match is not None, banner
    key, body, url = match.groups()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    accepted = httpx.post(url, content=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    message_url = f"{up.api}/v1/messages/{accepted.json()['id']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        message = httpx.get(message_url, headers=headers).json()
        if message["status"] != "queued" and message["status"] != "sending":
            break
        time.sleep(0.2)
    assert message["status"] in {"sent", "delivered"}, message
    seen = httpx.get(f"{up.sim}/messages", params={"limit": 10}).json()
    items = seen["items"] if isinstance(seen, dict) else seen
    assert [m["to"] for m in items if m.get("body") == "Hello from Herald"] == ["+12025550143"]


def test_a_dying_child_stops_the_rest_and_fails(up: Up) -> None:
    up.wait_for_banner()
    children = up.children()
    pids = [p.pid for p in children] + [up.postmaster_pid()]
    api = next(p for p in children if p.cmdline()[-1] == "api")

    api.kill()

    assert up.process.wait(timeout=60) == 1
    assert _all_gone(pids)
    assert "herald api exited" in up.output.read_text()
