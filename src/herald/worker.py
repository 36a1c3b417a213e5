"""The background task application (procrastinate, PostgreSQL-backed).

Each domain owns a ``Blueprint`` in its ``tasks.py``; they are listed here, explicitly. The same
app is opened by API processes (to defer jobs inside a request's transaction) and by workers.
"""

from __future__ import annotations

import functools

import procrastinate

from herald.auth import tasks as auth_tasks
from herald.campaign import automation_tasks
from herald.campaign import tasks as campaign_tasks
from herald.channel import tasks as channel_tasks
from herald.hook import tasks as hook_tasks
from herald.imports import tasks as import_tasks
from herald.kit.embedded import to_libpq_url
from herald.message import tasks as message_tasks
from herald.runtime import tasks as runtime_tasks

BLUEPRINTS: dict[str, procrastinate.Blueprint] = {
    "runtime": runtime_tasks.blueprint,
    "auth": auth_tasks.blueprint,
    "imports": import_tasks.blueprint,
    "channel": channel_tasks.blueprint,
    "messages": message_tasks.blueprint,
    "hooks": hook_tasks.blueprint,
    "campaigns": campaign_tasks.blueprint,
    "campaign_automation": automation_tasks.blueprint,
}
"""Namespace → blueprint: task ``cleanup`` in namespace ``auth`` runs as ``auth:cleanup``."""


@functools.cache
def build_task_app(database_url: str) -> procrastinate.App:
    """The process's task app for ``database_url``, built once: procrastinate renames a
    blueprint's tasks in place when it adds them, so a second app would get them prefixed twice
    (``runtime:runtime:heartbeat``) and find none of its jobs' tasks."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=to_libpq_url(database_url)),
    )
    for namespace, blueprint in BLUEPRINTS.items():
        app.add_tasks_from(blueprint, namespace=namespace)
    return app
