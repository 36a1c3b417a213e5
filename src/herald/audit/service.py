"""The audit log: every change made on behalf of an authenticated caller, in the same transaction.

Request sessions carry the caller (``herald.kit.context.bind_actor``, done by the request path).
A flush listener turns the ORM inserts, updates and deletes of tenant-owned rows into audit
entries, so no route has to remember to log; each model declares which of its columns an entry
records (``__audited__``, see ``herald.kit.models.Base``), personal ones by name only. Work
that bypasses the ORM (imports, bulk updates) calls ``record`` itself, and so do events of
sessions without a caller in ``session.info`` (accepting an invitation, changing a password,
suspending a tenant from the CLI), naming the actor if there is one. Other sessions without a
caller (sign-in, background jobs) are not audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import orjson
import structlog
from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState, Session, UOWTransaction

from herald.audit.models import AuditEntry
from herald.audit.repository import AuditRepository, insert_entries
from herald.audit.schemas import AuditFilters
from herald.kit.context import Actor, bound_actor
from herald.kit.crypto import EncryptedJSON, EncryptedString
from herald.kit.errors import BadRequest
from herald.kit.models import PERSONAL
from herald.kit.pagination import PageParams, Slice

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"hash|digest|secret|password|token|encrypted|ciphertext")
USER_AGENT_MAX = 500


def _jsonable(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


def _resource_name(state: InstanceState[Any]) -> str:
    """``ApiKey`` → ``api_key``: the prefix of the entry's action."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", state.mapper.class_.__name__).lower()


def _is_secret(state: InstanceState[Any], key: str) -> bool:
    column = state.mapper.columns[key]
    return isinstance(column.type, EncryptedString | EncryptedJSON) or bool(
        _SECRET_NAME.search(column.name)
    )


def _owner_tenant(state: InstanceState[Any]) -> UUID | None:
    """The tenant a row belongs to: the value of its model's ``__owner_column__`` (``tenant_id``
    unless the model says otherwise; the tenant itself says ``id``)."""
    column = getattr(state.mapper.class_, "__owner_column__", "tenant_id")
    if column in state.mapper.columns:
        owner: UUID | None = state.dict.get(column)
        return owner
    return None


def _audited_keys(state: InstanceState[Any]) -> Iterator[str]:
    """The columns the model declares in ``__audited__``, in mapping order; none when it
    declares nothing (the entry then says what happened, not to which values)."""
    declared = state.mapper.class_.__audited__ or frozenset()
    for attr in state.mapper.column_attrs:
        if attr.key in declared:
            yield attr.key


def _is_personal(state: InstanceState[Any], key: str) -> bool:
    """Columns a model declares in ``__personal_data__`` are named in entries, never copied:
    the audit log is append-only, and erasing a person must leave nothing of them behind."""
    return key in state.mapper.class_.__personal_data__


def _shown(state: InstanceState[Any], key: str, value: Any) -> Any:
    if value is None:
        return None
    if _is_secret(state, key):
        return REDACTED
    if _is_personal(state, key):
        return PERSONAL
    mask = state.mapper.class_.__audit_masks__.get(key)
    return _jsonable(mask(value) if mask else value)


def _snapshot(state: InstanceState[Any], *, side: str) -> dict[str, Any]:
    """The loaded values of a created (``new``) or deleted (``old``) row."""
    other = "old" if side == "new" else "new"
    return {
        key: {other: None, side: _shown(state, key, state.dict[key])}
        for key in _audited_keys(state)
        if state.dict.get(key) is not None
    }


def _updates(state: InstanceState[Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in _audited_keys(state):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            changes[key] = {"old": _shown(state, key, old), "new": _shown(state, key, new)}
    return changes


def entry_row(
    actor: Actor | None,
    tenant_id: UUID,
    action: str,
    resource_type: str,
    resource_id: Any,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """The column values of one entry; the actor and origin come from the caller, if any."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    user_agent = actor.user_agent if actor else None
    return {
        "tenant_id": tenant_id,
        "actor_user_id": actor.user_id if actor else None,
        "actor_api_key_id": actor.api_key_id if actor else None,
        "action": action,
        "resource_type": resource_type,
        "resource_id": None if resource_id is None else str(resource_id),
        "changes": _jsonable(changes),
        "ip": actor.ip if actor else None,
        "user_agent": user_agent[:USER_AGENT_MAX] if user_agent else None,
        "request_id": request_id if isinstance(request_id, str) else None,
    }


def _is_audited(state: InstanceState[Any]) -> bool:
    """A model that is its own log (messages and their events) says ``__audited__ = False``:
    copying each of its rows into the audit log would double the writes and say nothing new."""
    return state.mapper.class_.__audited__ is not False


def _describe(actor: Actor, state: InstanceState[Any], verb: str) -> dict[str, Any] | None:
    table = state.mapper.local_table.name  # type: ignore[attr-defined]
    tenant_id = _owner_tenant(state)
    if table == AuditEntry.__tablename__ or tenant_id is None or not _is_audited(state):
        return None
    if verb == "updated":
        changes = _updates(state)
        if not changes:
            return None
    else:
        changes = _snapshot(state, side="new" if verb == "created" else "old")
    resource_id = state.identity[0] if state.identity else state.dict.get("id")
    action = f"{_resource_name(state)}.{verb}"
    return entry_row(actor, tenant_id, action, table, resource_id, changes)


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    bound = bound_actor(session)
    if bound is None:
        return
    actor, _tenant_id = bound
    touched = [
        *((obj, "created") for obj in session.new),
        *((obj, "updated") for obj in session.dirty),
        *((obj, "deleted") for obj in session.deleted),
    ]
    rows = [row for obj, verb in touched if (row := _describe(actor, inspect(obj), verb))]
    if rows:
        insert_entries(session.connection(), rows)


def install_audit_listener() -> None:
    """Audit every flush of every ORM session; idempotent (each app factory calls it)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


async def record(
    session: AsyncSession,
    action: str,
    resource_type: str,
    resource_id: Any = None,
    *,
    changes: dict[str, Any] | None = None,
    tenant_id: UUID | None = None,
    actor: Actor | None = None,
) -> None:
    """Log, in the current transaction, work the ORM listener does not see: bulk SQL
    (imports, bulk updates) and events of sessions outside a request's tenant scope (sign-in
    events), for which the caller names the ``actor``. The actor's tenant is used unless
    ``tenant_id`` is given (background jobs)."""
    bound = bound_actor(session)
    if actor is None and bound is not None:
        actor = bound[0]
    owner = tenant_id or (bound[1] if bound else None)
    if owner is None:
        raise ValueError("record() needs a tenant: pass tenant_id outside an API request.")
    row = entry_row(actor, owner, action, resource_type, resource_id, changes or {})
    await AuditRepository(session).add(row)


async def list_entries(
    session: AsyncSession, tenant_id: UUID, filters: AuditFilters, params: PageParams
) -> Slice[AuditEntry]:
    if filters.since and filters.until and filters.since >= filters.until:
        raise BadRequest("'since' must be earlier than 'until'.")
    return await AuditRepository(session).list(tenant_id, filters, params)
