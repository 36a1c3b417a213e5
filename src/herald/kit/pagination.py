"""Keyset pagination: stable pages at any depth, no OFFSET scans.

A cursor is an opaque, URL-safe token holding the sort value and id of the last row of the
previous page. Lists order by ``(sort column, id)`` so ties never repeat or skip rows.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import orjson
from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from herald.kit.errors import BadRequest

T = TypeVar("T")
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class Slice(Generic[T]):
    """One page of rows, as a repository returns it, and the cursor of the next page."""

    items: list[T]
    next_cursor: str | None


M = TypeVar("M", bound=BaseModel)


def page_of(found: Slice[Any], schema: type[M]) -> Page[M]:
    """The API page of a repository's slice, each row read into ``schema``."""
    return Page(
        items=[schema.model_validate(row) for row in found.items], next_cursor=found.next_cursor
    )


class PageParams(BaseModel):
    limit: int = 50
    cursor: str | None = None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page.")] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(sort_value: Any, row_id: UUID) -> str:
    if isinstance(sort_value, datetime):
        payload = ["t", sort_value.isoformat(), str(row_id)]
    else:
        payload = ["v", sort_value, str(row_id)]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, UUID]:
    try:
        kind, value, row_id = orjson.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        )
        if kind == "t":
            value = datetime.fromisoformat(value)
        return value, UUID(row_id)
    except Exception as exc:
        raise BadRequest(
            "The cursor is not valid; pass the next_cursor of a previous page unchanged."
        ) from exc


def keyset(
    stmt: Select[Any],
    params: PageParams,
    sort: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    *,
    descending: bool = False,
) -> Select[Any]:
    """Apply the cursor, the order and ``limit + 1`` (the extra row tells if a next page exists).

    The cursor is a row comparison either way: PostgreSQL starts an index range scan at it, where
    the equivalent ``sort < v OR (sort = v AND id < i)`` is only a filter, read from the first
    row on, so a page far down a long list would cost as much as every page above it."""
    if params.cursor:
        value, row_id = decode_cursor(params.cursor)
        _check_cursor_value(sort, value)
        if sort is id_column:
            stmt = stmt.where(id_column < row_id if descending else id_column > row_id)
        elif descending:
            stmt = stmt.where(tuple_(sort, id_column) < tuple_(value, row_id))
        else:
            stmt = stmt.where(tuple_(sort, id_column) > tuple_(value, row_id))
    order = (sort.desc(), id_column.desc()) if descending else (sort.asc(), id_column.asc())
    return stmt.order_by(*order).limit(params.limit + 1)


_CHECKED_TYPES = (datetime, str, int, float)


def _check_cursor_value(sort: Any, value: Any) -> None:
    """A cursor made for another sort order (or forged) would otherwise reach the database as
    a value of the wrong type."""
    try:
        expected = sort.type.python_type
    except (AttributeError, NotImplementedError):
        return
    if expected in _CHECKED_TYPES and not isinstance(value, expected):
        raise BadRequest(
            "The cursor belongs to another list or sort order; request the first page again "
            "without it."
        )


def build_page(
    rows: list[Any], params: PageParams, sort_attr: str, *, id_attr: str = "id"
) -> tuple[list[Any], str | None]:
    """Split the ``limit + 1`` rows into a page and the cursor of the next one."""
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, encode_cursor(getattr(last, sort_attr), getattr(last, id_attr))
