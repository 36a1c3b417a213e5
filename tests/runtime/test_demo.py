from __future__ import annotations

import stat
from pathlib import Path

import httpx
from sqlalchemy import func, select

from herald.demo import DEMO_FILE, DEMO_TENANT_NAME, MARKER_FILE, ensure_demo
from herald.kit.database import Database
from herald.settings import Settings
from herald.tenant.models import Tenant


async def _tenant_count(db: Database) -> int:
    async with db.system_session() as session:
        return int((await session.execute(select(func.count()).select_from(Tenant))).scalar_one())


async def test_first_run_makes_a_demo_whose_key_works(
    settings: Settings, db: Database, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    first_run = settings.model_copy(update={"data_dir": tmp_path, "demo": True})

    demo = await ensure_demo(first_run, db)

    assert demo is not None
    assert (tmp_path / MARKER_FILE).exists()
    assert stat.S_IMODE((tmp_path / DEMO_FILE).stat().st_mode) == 0o600
    response = await client.get("/v1/tenant", headers={"Authorization": f"Bearer {demo.api_key}"})
    assert response.status_code == 200
    assert response.json()["id"] == demo.tenant_id
    assert response.json()["name"] == DEMO_TENANT_NAME


async def test_later_runs_reprint_the_same_demo_and_create_nothing(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    config = settings.model_copy(update={"data_dir": tmp_path, "demo": True})
    demo = await ensure_demo(config, db)
    tenants = await _tenant_count(db)

    again = await ensure_demo(config, db)

    assert again == demo
    assert await _tenant_count(db) == tenants


async def test_no_demo_when_disabled_and_not_later_either(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    tenants = await _tenant_count(db)

    assert await ensure_demo(settings.model_copy(update={"data_dir": tmp_path}), db) is None
    enabled_later = settings.model_copy(update={"data_dir": tmp_path, "demo": True})
    assert await ensure_demo(enabled_later, db) is None

    assert (tmp_path / MARKER_FILE).exists()
    assert not (tmp_path / DEMO_FILE).exists()
    assert await _tenant_count(db) == tenants
