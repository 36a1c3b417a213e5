"""The base every repository shares: it holds the session and builds keyset pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from herald.kit.pagination import PageParams, Slice, build_page, keyset


class Repository:
    """All SQL of a domain lives in a subclass; services hand it the request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self,
        stmt: Select[Any],
        params: PageParams,
        sort: InstrumentedAttribute[Any],
        id_column: InstrumentedAttribute[Any],
        *,
        descending: bool = False,
    ) -> Slice[Any]:
        """Run ``stmt`` as one keyset page ordered by ``(sort, id_column)``."""
        ordered = keyset(stmt, params, sort, id_column, descending=descending)
        rows = list((await self.session.scalars(ordered)).all())
        items, cursor = build_page(rows, params, sort.key, id_attr=id_column.key)
        return Slice(items, cursor)
