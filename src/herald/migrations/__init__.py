"""Alembic migrations, run by ``herald migrate`` and before ``herald up`` serves."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from herald.kit.embedded import to_sqlalchemy_url

HERE = Path(__file__).parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", to_sqlalchemy_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)
