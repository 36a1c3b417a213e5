"""Raw ciphertext access for re-encryption. Columns are read and written as plain text
(``type_coerce``), so the encrypting column type never runs here."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Text, Uuid, column, func, select, type_coerce, update, values
from sqlalchemy.ext.asyncio import AsyncSession

from herald.keys.registry import EncryptedColumn


async def stale_batch(
    session: AsyncSession, target: EncryptedColumn, kid: str, after: UUID | None, limit: int
) -> list[tuple[UUID, str]]:
    """Up to ``limit`` (id, token) pairs not yet under key ``kid``, by id after ``after``."""
    table, raw = target.table, type_coerce(target.column, Text)
    stmt = select(table.c.id, raw).where(raw.is_not(None), ~raw.startswith(f"v1:{kid}:"))
    if after is not None:
        stmt = stmt.where(table.c.id > after)
    rows = await session.execute(stmt.order_by(table.c.id).limit(limit))
    return [(row[0], row[1]) for row in rows]


async def replace_tokens(
    session: AsyncSession, target: EncryptedColumn, rows: list[tuple[UUID, str, str]]
) -> int:
    """One ``UPDATE … FROM (VALUES …)`` for (id, old token, new token) rows. A row whose token
    changed since it was read is left alone; returns how many rows were replaced."""
    batch = values(column("id", Uuid), column("old", Text), column("new", Text), name="batch").data(
        rows
    )
    table, raw = target.table, type_coerce(target.column, Text)
    stmt = (
        update(table)
        .where(table.c.id == batch.c.id, raw == batch.c.old)
        .values({target.attribute: batch.c.new})
    )
    result = await session.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def count_by_kid(session: AsyncSession, target: EncryptedColumn) -> dict[str, int]:
    raw = type_coerce(target.column, Text)
    kid = func.split_part(raw, ":", 2)
    rows = await session.execute(select(kid, func.count()).where(raw.is_not(None)).group_by(kid))
    return {row[0]: int(row[1]) for row in rows}
