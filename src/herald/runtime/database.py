"""Run a piece of async work against the database from a command-line command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from herald.kit.database import Database, database_url
from herald.migrations import upgrade
from herald.settings import Settings, get_settings

T = TypeVar("T")


def run_with_database(
    work: Callable[[Database], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Attach to (or start) the database, bring its schema up to date, run ``work``."""
    settings = settings or get_settings()
    with database_url(settings) as url:
        upgrade(url)

        async def main() -> T:
            db = Database(url, pool_size=2)
            try:
                return await work(db)
            finally:
                await db.dispose()

        return asyncio.run(main())
