"""The background task application (procrastinate, PostgreSQL-backed).

Each domain owns a ``Blueprint`` in its ``tasks.py``; they are listed here, explicitly. The same
app is opened by API processes (to defer jobs inside a request's transaction) and by workers.
"""

from __future__ import annotations

import procrastinate

from herald.kit.embedded import to_libpq_url

BLUEPRINTS: dict[str, procrastinate.Blueprint] = {}
"""Namespace → blueprint: task ``cleanup`` in namespace ``auth`` runs as ``auth:cleanup``."""


def build_task_app(database_url: str) -> procrastinate.App:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=to_libpq_url(database_url)),
    )
    for namespace, blueprint in BLUEPRINTS.items():
        app.add_tasks_from(blueprint, namespace=namespace)
    return app
