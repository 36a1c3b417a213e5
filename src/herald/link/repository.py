"""All SQL of short links: the set-based insert, reads and lists, and the one-statement click."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import psycopg
from sqlalchemy import Uuid, exists, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, TEXT, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from herald.contact.models import Contact
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.link.models import ShortLink


@dataclass(frozen=True)
class LinkValues:
    """What the links of one insert share."""

    tenant_id: UUID
    target_url: str
    redirect_url: str
    campaign_id: UUID | None
    utm: dict[str, str | None]
    discount_code: str | None
    expires_at: datetime


@dataclass(frozen=True)
class NewLink:
    """What each link of an insert has of its own."""

    id: UUID
    token: str
    contact_id: UUID | None
    message_id: UUID | None


class LinkRepository(Repository):
    async def insert_many(self, shared: LinkValues, links: list[NewLink]) -> None:
        """Every link in one ``INSERT … SELECT FROM unnest(…)``: a single statement and four
        array parameters, whatever the number of recipients."""
        rows = (
            func.unnest(
                _array([link.id for link in links], Uuid()),
                _array([link.token for link in links], TEXT()),
                _array([link.contact_id for link in links], Uuid()),
                _array([link.message_id for link in links], Uuid()),
            )
            .table_valued("id", "token", "contact_id", "message_id")
            .render_derived(name="r")
        )
        constants: dict[str, Any] = {
            "tenant_id": shared.tenant_id,
            "target_url": shared.target_url,
            "redirect_url": shared.redirect_url,
            "campaign_id": shared.campaign_id,
            "discount_code": shared.discount_code,
            "expires_at": shared.expires_at,
            **{f"utm_{name}": value for name, value in shared.utm.items()},
        }
        source = select(
            rows.c.id,
            rows.c.token,
            rows.c.contact_id,
            rows.c.message_id,
            *(
                literal(value, ShortLink.__table__.c[name].type)
                for name, value in constants.items()
            ),
        )
        columns = ["id", "token", "contact_id", "message_id", *constants]
        await self.session.execute(insert(ShortLink).from_select(columns, source))

    async def contact_exists(self, tenant_id: UUID, contact_id: UUID) -> bool:
        stmt = select(exists().where(Contact.tenant_id == tenant_id, Contact.id == contact_id))
        return bool(await self.session.scalar(stmt))

    async def get(self, tenant_id: UUID, link_id: UUID) -> ShortLink | None:
        return await self.session.scalar(
            select(ShortLink).where(ShortLink.tenant_id == tenant_id, ShortLink.id == link_id)
        )

    async def list(
        self,
        tenant_id: UUID,
        params: PageParams,
        *,
        campaign_id: UUID | None = None,
        contact_id: UUID | None = None,
    ) -> Slice[ShortLink]:
        """Newest first (ids are time-ordered)."""
        stmt = select(ShortLink).where(ShortLink.tenant_id == tenant_id)
        if campaign_id is not None:
            stmt = stmt.where(ShortLink.campaign_id == campaign_id)
        if contact_id is not None:
            stmt = stmt.where(ShortLink.contact_id == contact_id)
        return await self.page(stmt, params, ShortLink.id, ShortLink.id, descending=True)


def _array(values: list[Any], item_type: Any) -> Any:
    return literal(values, ARRAY(item_type))


@dataclass(frozen=True)
class Click:
    """The outcome of following a token: where to go, or whether the link exists at all."""

    redirect_url: str | None
    known: bool


CLICK_SQL = """
WITH hit AS (
    UPDATE short_links
    SET clicks = clicks + 1,
        human_clicks = human_clicks + %(human)s,
        first_clicked_at = coalesce(first_clicked_at, CASE WHEN %(human)s > 0 THEN now() END),
        last_clicked_at = now()
    WHERE token = %(token)s AND expires_at > now()
    RETURNING redirect_url, tenant_id, campaign_id, contact_id, message_id
),
engaged AS (
    INSERT INTO events (id, tenant_id, type, message_id, contact_id, campaign_id, occurred_at,
                        data)
    SELECT %(event_id)s, tenant_id, 'clicked', message_id, contact_id, campaign_id, now(), '{}'
    FROM hit
    WHERE %(human)s > 0 AND campaign_id IS NOT NULL
)
SELECT (SELECT redirect_url FROM hit),
       EXISTS (SELECT FROM short_links WHERE token = %(token)s),
       set_config('synchronous_commit', 'off', true)
"""
"""Count a click and read where it goes. ``set_config`` lets this one transaction commit without
waiting for the WAL to reach the disk — the flush was most of a click's cost; a crash of the
database server itself could lose the last few hundred milliseconds of clicks, nothing else.
It is transaction-local: the pooled connection comes back unchanged. A click is not an edit of
the link, so ``updated_at`` stays. A person's click on a campaign's link also appends the
campaign's ``clicked`` event (the message log's ``events``, as the dispatcher's receipts do):
the A/B winner, drip stops and campaign stats read clicks there."""


async def record_click(conn: AsyncConnection, token: str, *, human: bool, event_id: UUID) -> Click:
    """Run ``CLICK_SQL`` as its own transaction: one round trip. It goes straight to the
    driver's connection (autocommit, server-side prepared) — on the hottest path, the SQL
    layer's per-statement work would cost more than the database's."""
    driver = cast(
        "psycopg.AsyncConnection[Any]", (await conn.get_raw_connection()).driver_connection
    )
    await driver.set_autocommit(True)
    try:
        cursor = await driver.execute(
            CLICK_SQL, {"token": token, "human": int(human), "event_id": event_id}, prepare=True
        )
        row = await cursor.fetchone()
        assert row is not None  # the SELECT has no FROM: always exactly one row
    finally:
        await driver.set_autocommit(False)
    return Click(redirect_url=row[0], known=bool(row[1]))
