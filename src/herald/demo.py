"""First-run demo: on a new data dir, a demo tenant, an API key and an SMS channel on the
built-in provider simulator, so that a newcomer can ``curl`` the API and send a message at once.

"New" is decided by a marker file in the data dir, so the demo is made once, never again
(even after its tenant is deleted). The key is kept in ``<data_dir>/demo.json`` (mode 0600)
so that later ``herald up`` runs can print it again.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from herald.channel.schemas import ChannelCreate
from herald.channel.service import create_channel
from herald.contact.models import ChannelKind
from herald.kit.database import Database
from herald.settings import Settings
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate

MARKER_FILE = ".initialized"
DEMO_FILE = "demo.json"
DEMO_TENANT_NAME = "Demo Shop"
DEMO_OWNER_EMAIL = "demo@example.com"
DEMO_CHANNEL = ChannelCreate(
    kind=ChannelKind.sms,
    provider="simulator",
    name="Simulator",
    sender="+15550100",
    rate_per_second=50,
)


@dataclass(frozen=True)
class DemoAccess:
    tenant_id: str
    owner_email: str
    api_key: str
    channel_id: str | None = None
    """The demo's simulator SMS channel (absent in a demo made before channels existed)."""


async def ensure_demo(settings: Settings, db: Database) -> DemoAccess | None:
    """Create the demo on a new data dir; on a known one, return the saved demo (if any)."""
    data_dir = settings.data_dir
    marker = data_dir / MARKER_FILE
    if marker.exists():
        return read_demo(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    demo = await create_demo(db, settings.base_url) if settings.demo else None
    if demo is not None:
        _write_private(data_dir / DEMO_FILE, orjson.dumps(asdict(demo), option=orjson.OPT_INDENT_2))
    marker.write_text("Herald has been set up in this directory.\n")
    return demo


async def create_demo(db: Database, base_url: str) -> DemoAccess:
    """The tenant, its owner's key, and a simulator channel sending to this Herald's ``/sim``."""
    async with db.system_session() as session:
        done = await onboard_tenant(session, TenantCreate(name=DEMO_TENANT_NAME), DEMO_OWNER_EMAIL)
    async with db.tenant_session(done.tenant.id) as session:
        channel = await create_channel(session, done.tenant.id, DEMO_CHANNEL, base_url)
    return DemoAccess(str(done.tenant.id), done.owner.email, done.api_key.secret, str(channel.id))


def read_demo(data_dir: Path) -> DemoAccess | None:
    try:
        raw = orjson.loads((data_dir / DEMO_FILE).read_bytes())
    except FileNotFoundError:
        return None
    return DemoAccess(**raw)


def _write_private(path: Path, content: bytes) -> None:
    """Write a secret readable by its owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(content)
    path.chmod(0o600)
