"""All SQL of campaigns: the rows themselves, the launch's single ``INSERT … SELECT``, the
figures counted from the campaign's messages and events, and the sweeps the tasks run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    Text,
    Uuid,
    and_,
    case,
    cast,
    column,
    delete,
    func,
    literal,
    select,
    text,
    true,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import JSONB, insert

from herald.campaign.models import Campaign, CampaignStatus, CampaignStep, CampaignVariant
from herald.campaign.schemas import Stats
from herald.channel.models import Channel
from herald.contact.models import Contact
from herald.imports.repository import UUID7_SQL
from herald.kit.ids import id_block
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository
from herald.message.models import EventType, Message, MessageEvent, MessageStatus
from herald.tenant.models import Tenant

ENGAGEMENT = {
    EventType.clicked: "clicked",
    EventType.replied: "replied",
    EventType.opt_out: "opted_out",
}
CHARGED = (
    MessageStatus.sending,
    MessageStatus.sent,
    MessageStatus.delivered,
    MessageStatus.read,
    MessageStatus.undelivered,
    MessageStatus.unknown,
)
"""Statuses whose cost was reserved from the wallet (a failed send is refunded)."""
PENDING = (MessageStatus.queued.value, MessageStatus.sending.value)


@dataclass(frozen=True)
class Place:
    """One number prefix of an audience with one contact time zone ('' for none): the zone its
    messages keep (the contact's, else the number's), its marketing hours and its country."""

    prefix: str
    contact_zone: str
    zone: str | None
    start_minute: int
    end_minute: int
    country: str


@dataclass(frozen=True)
class VariantRow:
    """One variant as the launch statement joins it."""

    variant_id: UUID
    low: int
    high: int
    body: str | None
    template: dict[str, Any] | None
    encoding: str | None
    segments: int | None


@dataclass(frozen=True)
class Charge:
    country: str
    variant_id: UUID
    cost_micros: int | None
    currency: str | None


@dataclass(frozen=True)
class Sender:
    """A channel the launch may send from (one, or the members of a sender pool)."""

    channel_id: UUID
    address: str


@dataclass(frozen=True)
class Launch:
    """Everything the launch statement needs besides the audience conditions."""

    tenant_id: UUID
    campaign_id: UUID
    round: int
    purpose: str
    senders: Sequence[Sender]
    places: Sequence[Place]
    variants: Sequence[VariantRow]
    charges: Sequence[Charge]
    start: datetime
    """The earliest send time (now, or the scheduled instant)."""
    local_start: datetime | None
    """A "local time" schedule: this wall-clock time (naive) in each recipient's zone."""
    tenant_zone: str
    default_start_minute: int
    default_end_minute: int
    quiet: bool
    """Quiet hours apply (marketing)."""


def awaiting_winner() -> ColumnElement[bool]:
    """The campaign runs an A/B test whose winner is not decided yet."""
    return and_(Campaign.ab.is_not(None), Campaign.ab["decided_at"].astext.is_(None))


def spread(key: Any, size: int, salt: str = "") -> ColumnElement[int]:
    """A fixed place in ``[0, size)`` for ``key`` (a contact id): the same contact always
    lands in the same variant range or on the same pool member."""
    hashed = cast(func.hashtext(cast(key, Text) + salt), BigInteger)
    return func.mod(hashed + 2147483648, size)


def _places(launch: Launch) -> Any:
    """The places with each one's send time, worked out once per place rather than once per
    message (a materialized CTE: inlined, the expression would run for every joined row)."""
    rows = [
        (p.prefix, p.contact_zone, p.zone, p.start_minute, p.end_minute, p.country)
        for p in launch.places
    ]
    given = values(
        column("prefix", String),
        column("contact_zone", String),
        column("zone", String),
        column("start_minute", Integer),
        column("end_minute", Integer),
        column("country", String),
        name="given",
    ).data(rows or [("", "", None, 0, 1440, "")])
    g = given.c
    zone = func.coalesce(g.zone, launch.tenant_zone)
    at = send_time(launch, zone, g.start_minute, g.end_minute)
    return select(given, at.label("send_at")).cte("p").prefix_with("MATERIALIZED")


@dataclass(frozen=True)
class Placed:
    """How a contact's row meets its place: the join condition, its send time and country."""

    on: ColumnElement[bool]
    send_at: Any
    country: ColumnElement[str]


def placed(launch: Launch, places: Any, phone: Any, timezone: Any) -> Placed:
    """A contact meets the place of its number prefix and its own zone. A contact no place
    covers (one changed since the places were read) is timed on its own, in its zone or the
    tenant's, with the default hours and the ``*`` price."""
    p = places.c
    own_zone = func.coalesce(timezone, launch.tenant_zone)
    fallback = send_time(launch, own_zone, launch.default_start_minute, launch.default_end_minute)
    return Placed(
        on=and_(
            p.prefix == func.substr(phone, 1, 5), p.contact_zone == func.coalesce(timezone, "")
        ),
        send_at=func.coalesce(p.send_at, fallback),
        country=func.coalesce(p.country, ""),
    )


def _split(launch: Launch) -> bool:
    """The audience is split by spot: several variants, or one that covers part of it."""
    whole = [(v.low, v.high) for v in launch.variants] == [(0, 100)]
    return not whole


def _variants(launch: Launch) -> Any:
    """Split, one row per spot of ``[0, 100)`` a variant's range holds, so that a contact
    meets its variant by one hash lookup of its spot (a spot no range holds, outside an A/B
    test's share, meets none); else the one variant, for everyone."""
    split = _split(launch)
    rows = [
        (spot, v.variant_id, v.body, v.template, v.encoding, v.segments)
        for v in launch.variants
        for spot in (range(v.low, v.high) if split else [0])
    ]
    return values(
        column("spot", BigInteger),
        column("variant_id", Uuid),
        column("body", Text),
        column("template", JSONB),
        column("encoding", String),
        column("segments", Integer),
        name="v",
    ).data(rows)


def _charges(launch: Launch) -> Any:
    rows = [(c.country, c.variant_id, c.cost_micros, c.currency) for c in launch.charges]
    return values(
        column("country", String),
        column("variant_id", Uuid),
        column("cost", BigInteger),
        column("currency", String),
        name="k",
    ).data(rows or [("", launch.variants[0].variant_id, None, None)])


def _senders(launch: Launch) -> Any:
    rows = [(n, s.channel_id, s.address) for n, s in enumerate(launch.senders)]
    return values(
        column("position", Integer),
        column("channel_id", Uuid),
        column("address", String),
        name="s",
    ).data(rows)


def send_time(launch: Launch, zone: Any, start_minute: Any, end_minute: Any) -> Any:
    """The earliest instant at or after the start inside the local hours, in SQL: the local
    wall clock of the start is compared with the window, and a time outside it moves to the
    window's opening that day or the next (``timezone(zone, local)`` applies the zone's DST
    rules of that very day)."""
    start: Any = literal(launch.start)
    if launch.local_start is not None:
        start = func.greatest(start, func.timezone(zone, literal(launch.local_start)))
    if not launch.quiet:
        return start
    local = func.timezone(zone, start)
    minute = cast(func.extract("hour", local) * 60 + func.extract("minute", local), Integer)
    day = func.date_trunc("day", local)
    today = func.make_interval(0, 0, 0, 0, 0, start_minute)
    tomorrow = func.make_interval(0, 0, 0, 1, 0, start_minute)
    return case(
        (minute < start_minute, func.timezone(zone, day + today)),
        (minute >= end_minute, func.timezone(zone, day + tomorrow)),
        else_=start,
    )


def block_id(ordinal: Any) -> ColumnElement[UUID]:
    """The ``ordinal``-th UUIDv7 of a block drawn once for the statement (``id_block``): a
    string concatenation per row, where a random UUID per row costs ten times as much (the
    server draws each from the system's strong random source)."""
    high, low = id_block()
    low_bits = func.to_hex(literal(low, BigInteger) + ordinal)
    return cast(literal(high, String) + low_bits, Uuid)


def _one_of(choices: int, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The conditions picking one of several rows; none to compute when there is one."""
    return and_(*conditions) if choices > 1 else true()


LAUNCH_WORK_MEM = "256MB"
"""Memory for the launch statement's sorts and materialized audience (about 60 bytes per
contact): at PostgreSQL's default of 4 MB a million-contact audience is written to a
temporary file and read back, a tenth of the statement's time. One launch statement at a
time per campaign, and the value is restored right after it."""

LAUNCH_COLUMNS = (
    "id",
    "tenant_id",
    "channel_id",
    "contact_id",
    "campaign_id",
    "campaign_round",
    "variant_id",
    "direction",
    "purpose",
    "to_address",
    "from_address",
    "body",
    "template",
    "encoding",
    "segments",
    "cost_micros",
    "currency",
    "next_attempt_at",
    "queued_at",
    "created_at",
    "updated_at",
)
"""The columns the launch statement writes, in the order of its ``SELECT``."""


def launch_statement(
    launch: Launch, where: Sequence[ColumnElement[bool]], *, skip_existing: bool = True
) -> Any:
    """The launch's ``INSERT … SELECT``, with ``ON CONFLICT DO NOTHING`` when the round may
    hold messages already (``skip_existing``). The eligible contacts are planned on their own
    (the window function that numbers them keeps them apart, without a materialized copy):
    the anti-join with the do-not-contact list is hashed, each contact's spot (its variant) is
    hashed there once, and the sender condition, whose selectivity the planner cannot know,
    only meets the already chosen rows."""
    split = _split(launch)
    eligible = (
        select(
            Contact.id,
            Contact.phone_e164,
            Contact.timezone,
            func.row_number().over().label("ordinal"),
            (spread(Contact.id, 100) if split else literal(0, BigInteger)).label("spot"),
        )
        .where(*where)
        .cte("eligible")
    )
    c = eligible.c
    places, variants, charges, senders = (
        _places(launch),
        _variants(launch),
        _charges(launch),
        _senders(launch),
    )
    place = placed(launch, places, c.phone_e164, c.timezone)
    source = (
        eligible.join(variants, variants.c.spot == c.spot if split else true())
        .join(
            senders,
            _one_of(
                len(launch.senders),
                senders.c.position == spread(c.id, len(launch.senders), "-sender"),
            ),
        )
        .outerjoin(places, place.on)
        .outerjoin(
            charges,
            and_(charges.c.country == place.country, charges.c.variant_id == variants.c.variant_id),
        )
    )
    now = func.now()
    rows = select(
        block_id(c.ordinal),
        literal(launch.tenant_id),
        senders.c.channel_id,
        c.id,
        literal(launch.campaign_id),
        literal(launch.round),
        variants.c.variant_id,
        literal("outbound"),
        literal(launch.purpose),
        c.phone_e164,
        senders.c.address,
        # a VALUES column holding only NULLs would be text: each is cast to its column's type
        cast(variants.c.body, Text),
        cast(variants.c.template, JSONB),
        cast(variants.c.encoding, String),
        cast(variants.c.segments, Integer),
        cast(charges.c.cost, BigInteger),
        cast(charges.c.currency, String),
        place.send_at,
        now,
        now,
        now,
    ).select_from(source)
    stmt = insert(Message).from_select(LAUNCH_COLUMNS, rows)
    if not skip_existing:
        return stmt
    return stmt.on_conflict_do_nothing(
        index_elements=["tenant_id", "contact_id", "campaign_id", "campaign_round"]
    )


class CampaignRepository(Repository):
    # --- campaigns ------------------------------------------------------------------------

    async def get(
        self, tenant_id: UUID, campaign_id: UUID, *, for_update: bool = False
    ) -> Campaign | None:
        stmt = select(Campaign).where(Campaign.tenant_id == tenant_id, Campaign.id == campaign_id)
        return await self.session.scalar(stmt.with_for_update() if for_update else stmt)

    async def claim(self, tenant_id: UUID, campaign_id: UUID) -> Campaign | None:
        """The campaign under its row lock, or None when another transaction holds it (a
        sweep running elsewhere is at work on it: this one passes it by)."""
        stmt = (
            select(Campaign)
            .where(Campaign.tenant_id == tenant_id, Campaign.id == campaign_id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    def add(self, row: Campaign | CampaignVariant) -> None:
        self.session.add(row)

    async def delete(self, campaign: Campaign) -> None:
        await self.session.delete(campaign)

    async def listing(
        self, tenant_id: UUID, status: CampaignStatus | None, params: PageParams
    ) -> Slice[Campaign]:
        stmt = select(Campaign).where(Campaign.tenant_id == tenant_id)
        if status is not None:
            stmt = stmt.where(Campaign.status == status)
        return await self.page(stmt, params, Campaign.id, Campaign.id, descending=True)

    async def variants(self, tenant_id: UUID, campaign_id: UUID) -> list[CampaignVariant]:
        stmt = (
            select(CampaignVariant)
            .where(
                CampaignVariant.tenant_id == tenant_id, CampaignVariant.campaign_id == campaign_id
            )
            .order_by(CampaignVariant.position)
        )
        return list(await self.session.scalars(stmt))

    async def replace_variants(
        self, tenant_id: UUID, campaign_id: UUID, variants: Sequence[CampaignVariant]
    ) -> None:
        await self.session.execute(
            delete(CampaignVariant).where(
                CampaignVariant.tenant_id == tenant_id, CampaignVariant.campaign_id == campaign_id
            )
        )
        self.session.add_all(variants)
        await self.session.flush()

    async def steps(self, tenant_id: UUID, campaign_id: UUID) -> list[CampaignStep]:
        stmt = (
            select(CampaignStep)
            .where(CampaignStep.tenant_id == tenant_id, CampaignStep.campaign_id == campaign_id)
            .order_by(CampaignStep.position)
        )
        return list(await self.session.scalars(stmt))

    async def replace_steps(
        self, tenant_id: UUID, campaign_id: UUID, steps: Sequence[CampaignStep]
    ) -> None:
        await self.session.execute(
            delete(CampaignStep).where(
                CampaignStep.tenant_id == tenant_id, CampaignStep.campaign_id == campaign_id
            )
        )
        self.session.add_all(steps)
        await self.session.flush()

    # --- figures ----------------------------------------------------------------------------

    async def stats(self, tenant_id: UUID, campaign_id: UUID) -> Stats:
        """One aggregate over the campaign's messages (served by the per-campaign status
        index) and one over its engagement events."""
        charged = Message.status.in_([s.value for s in CHARGED])
        rows = await self.session.execute(
            select(
                Message.status,
                func.count(),
                func.coalesce(func.sum(Message.cost_micros).filter(charged), 0),
                func.max(Message.currency),
            )
            .where(Message.tenant_id == tenant_id, Message.campaign_id == campaign_id)
            .group_by(Message.status)
        )
        found: dict[str, Any] = {"total": 0, "cost": 0, "currency": None}
        for status, count, cost, currency in rows:
            found[str(status)] = count
            found["total"] += count
            found["cost"] += int(cost or 0)
            found["currency"] = found["currency"] or currency
        for kind, count in await self._engagement(tenant_id, campaign_id, None):
            found[ENGAGEMENT[kind]] = count
        return Stats.model_validate({k: v for k, v in found.items() if k in Stats.model_fields})

    async def _engagement(self, tenant_id: UUID, campaign_id: UUID, by: Any) -> Sequence[Any]:
        who = func.count(
            func.distinct(func.coalesce(MessageEvent.contact_id, MessageEvent.message_id))
        )
        columns = [MessageEvent.type, who] if by is None else [by, MessageEvent.type, who]
        stmt = select(*columns).where(
            MessageEvent.tenant_id == tenant_id,
            MessageEvent.campaign_id == campaign_id,
            MessageEvent.type.in_(list(ENGAGEMENT)),
        )
        if by is not None:
            stmt = stmt.join(Message, Message.id == MessageEvent.message_id)
            stmt = stmt.group_by(by, MessageEvent.type)
        else:
            stmt = stmt.group_by(MessageEvent.type)
        return list(await self.session.execute(stmt))

    async def by_variant(self, tenant_id: UUID, campaign_id: UUID) -> list[dict[str, Any]]:
        """Per variant: messages by stage (each counted at its stage and every later one is
        left to the caller), cost, and engagement."""
        reached = {
            "sent": ("sent", "delivered", "read", "undelivered"),
            "delivered": ("delivered", "read"),
            "failed": ("failed", "undelivered"),
        }
        charged = Message.status.in_([s.value for s in CHARGED])
        columns = [
            func.count().filter(Message.status.in_(statuses)).label(name)
            for name, statuses in reached.items()
        ]
        rows = await self.session.execute(
            select(
                Message.variant_id,
                func.count().label("messages"),
                *columns,
                func.coalesce(func.sum(Message.cost_micros).filter(charged), 0).label("cost"),
            )
            .where(Message.tenant_id == tenant_id, Message.campaign_id == campaign_id)
            .group_by(Message.variant_id)
        )
        figures = {row.variant_id: {**row._asdict()} for row in rows}
        for variant_id, kind, count in await self._engagement(
            tenant_id, campaign_id, Message.variant_id
        ):
            if variant_id in figures:
                figures[variant_id][ENGAGEMENT[kind]] = count
        return list(figures.values())

    async def has_messages(self, tenant_id: UUID, campaign_id: UUID, round_: int) -> bool:
        found = await self.session.scalar(
            select(Message.id)
            .where(
                Message.tenant_id == tenant_id,
                Message.campaign_id == campaign_id,
                Message.campaign_round == round_,
            )
            .limit(1)
        )
        return found is not None

    async def queued_cost(self, tenant_id: UUID, campaign_id: UUID) -> int:
        """What the campaign's messages not yet sent will cost (micro-units)."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(Message.cost_micros), 0)).where(
                Message.tenant_id == tenant_id,
                Message.campaign_id == campaign_id,
                Message.status == MessageStatus.queued,
            )
        )
        return int(total or 0)

    # --- audience ---------------------------------------------------------------------------

    async def prefixes(self, where: Sequence[ColumnElement[bool]]) -> list[tuple[str, str, str]]:
        """Each number prefix of the audience with each contact zone found with it ('' for
        none) and one number of theirs (hashed, not sorted)."""
        prefix = func.substr(Contact.phone_e164, 1, 5)
        zone = func.coalesce(Contact.timezone, "")
        rows = await self.session.execute(
            select(prefix, zone, func.min(Contact.phone_e164))
            .where(*where, Contact.phone_e164.is_not(None))
            .group_by(prefix, zone)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def reasons(self, where: Sequence[ColumnElement[bool]], reason: Any) -> dict[str, int]:
        """How many audience contacts each rule leaves out (the first they fail)."""
        label = reason.label("reason")
        rows = await self.session.execute(select(label, func.count()).where(*where).group_by(label))
        return {row[0]: int(row[1]) for row in rows}

    async def send_times(
        self, launch: Launch, where: Sequence[ColumnElement[bool]]
    ) -> tuple[datetime | None, datetime | None, list[tuple[str, int]]]:
        """The first and last send time of the audience and, per variant, how many recipients
        and in which country: the preflight's view of what a launch would write."""
        places = _places(launch)
        place = placed(launch, places, Contact.phone_e164, Contact.timezone)
        when = place.send_at
        joined = Contact.__table__.outerjoin(places, place.on)
        row = (
            await self.session.execute(
                select(func.min(when), func.max(when)).select_from(joined).where(*where)
            )
        ).one()
        country = place.country
        counted = await self.session.execute(
            select(country, func.count()).select_from(joined).where(*where).group_by(country)
        )
        return row[0], row[1], [(c[0], int(c[1])) for c in counted]

    async def launch(
        self, launch: Launch, where: Sequence[ColumnElement[bool]], *, skip_existing: bool
    ) -> int:
        """Materialize the audience into queued messages in one statement. With
        ``skip_existing``, a contact who has this round's message already is skipped (a
        double launch adds nothing); without it, such a message is a unique violation."""
        stmt = launch_statement(launch, where, skip_existing=skip_existing)
        previous = await self._set_work_mem(LAUNCH_WORK_MEM)
        # The statement's own row count: RETURNING would hold every new id until the end.
        result = await self.session.execute(stmt.execution_options(preserve_rowcount=True))
        await self._set_work_mem(previous)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _set_work_mem(self, value: str) -> str:
        """Set ``work_mem`` for the rest of the transaction; returns the value it had."""
        previous = await self.session.scalar(
            select(func.current_setting("work_mem"), func.set_config("work_mem", value, True))
        )
        return str(previous)

    async def hold_senders(self, tenant_id: UUID, channel_ids: Sequence[UUID]) -> None:
        """Lock the tenant and the launch's channels against deletion until the transaction
        ends (``FOR KEY SHARE``, as a foreign key check would, once rather than per message):
        ``messages`` has no foreign keys, and the delete triggers of migration 0023 must see
        the launched rows."""
        await self.session.execute(
            select(Channel.id)
            .join(Tenant, Tenant.id == Channel.tenant_id)
            .where(Channel.tenant_id == tenant_id, Channel.id.in_(channel_ids))
            .with_for_update(read=True, key_share=True)
        )

    async def to_render(
        self,
        tenant_id: UUID,
        campaign_id: UUID,
        round_: int,
        variant_id: UUID,
        after: UUID | None,
        limit: int,
    ) -> list[tuple[UUID, str | None, Contact]]:
        """A batch of this round's messages of a variant whose body is rendered per contact."""
        stmt = (
            select(Message.id, Message.to_address, Contact)
            .join(Contact, Contact.id == Message.contact_id)
            .where(
                Message.tenant_id == tenant_id,
                Message.campaign_id == campaign_id,
                Message.campaign_round == round_,
                Message.variant_id == variant_id,
                Message.status == MessageStatus.queued,
            )
            .order_by(Message.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(Message.id > after)
        return [(row[0], row[1], row[2]) for row in await self.session.execute(stmt)]

    async def set_bodies(
        self,
        tenant_id: UUID,
        rows: Sequence[tuple[UUID, str, str | None, int | None, int | None, str | None]],
    ) -> None:
        """Each rendered body, its count and cost, in one statement per batch."""
        await self.session.execute(
            text(
                """
                UPDATE messages m
                SET body = v.body, encoding = v.encoding, segments = v.segments,
                    cost_micros = v.cost, currency = v.currency
                FROM unnest(CAST(:ids AS uuid[]), CAST(:bodies AS text[]),
                            CAST(:encodings AS text[]), CAST(:segments AS integer[]),
                            CAST(:costs AS bigint[]), CAST(:currencies AS text[]))
                     AS v(id, body, encoding, segments, cost, currency)
                WHERE m.tenant_id = :tenant_id AND m.id = v.id AND m.status = 'queued'
                """
            ),
            {
                "tenant_id": tenant_id,
                "ids": [r[0] for r in rows],
                "bodies": [r[1] for r in rows],
                "encodings": [r[2] for r in rows],
                "segments": [r[3] for r in rows],
                "costs": [r[4] for r in rows],
                "currencies": [r[5] for r in rows],
            },
        )

    async def contacts_for_numbers(self, tenant_id: UUID, phones: Sequence[str]) -> int:
        """Numbers of a "phones" audience that are no contact yet become contacts (source
        ``campaign``, no consent), in one statement; returns how many were created."""
        result = await self.session.execute(
            text(
                f"""
                INSERT INTO contacts (id, tenant_id, phone_e164, source, created_at, updated_at)
                SELECT {UUID7_SQL}, :tenant_id, p, 'campaign', now(), now()
                FROM unnest(CAST(:phones AS text[])) AS p
                ON CONFLICT (tenant_id, phone_e164) DO NOTHING
                """  # noqa: S608 - constant
            ),
            {"tenant_id": tenant_id, "phones": list(phones)},
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # --- status changes ---------------------------------------------------------------------

    async def cancel_queued(self, tenant_id: UUID, campaign_id: UUID) -> int:
        """Fail the campaign's unsent messages (``cancelled``) and record a ``failed`` event
        for each, in one statement."""
        result = await self.session.execute(
            text(
                f"""
                WITH cancelled AS (
                    UPDATE messages
                    SET status = 'failed', error_code = 'cancelled',
                        error_reason = 'the campaign was cancelled before this was sent',
                        failed_at = now(), updated_at = now()
                    WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
                      AND status = 'queued'
                    RETURNING id, contact_id
                )
                INSERT INTO events (id, tenant_id, type, message_id, contact_id, campaign_id,
                                    occurred_at, data)
                SELECT {UUID7_SQL}, :tenant_id, 'failed', id, contact_id, :campaign_id, now(),
                       '{{"error_code": "cancelled"}}'::jsonb
                FROM cancelled
                """  # noqa: S608 - constant
            ),
            {"tenant_id": tenant_id, "campaign_id": campaign_id},
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def messages(
        self, tenant_id: UUID, campaign_id: UUID, batch: int
    ) -> AsyncIterator[Sequence[Any]]:
        """The campaign's messages in id order, ``batch`` rows per query (keyset)."""
        after: UUID | None = None
        while True:
            stmt = (
                select(
                    Message.id,
                    Message.contact_id,
                    Message.to_address,
                    CampaignVariant.label,
                    Message.status,
                    Message.error_code,
                    Message.cost_micros,
                    Message.currency,
                    Message.sent_at,
                    Message.delivered_at,
                    Message.failed_at,
                )
                .outerjoin(CampaignVariant, CampaignVariant.id == Message.variant_id)
                .where(Message.tenant_id == tenant_id, Message.campaign_id == campaign_id)
                .order_by(Message.id)
                .limit(batch)
            )
            if after is not None:
                stmt = stmt.where(Message.id > after)
            rows = list(await self.session.execute(stmt))
            if not rows:
                return
            yield rows
            after = rows[-1][0]


class CampaignSweeps(Repository):
    """The periodic work across tenants (runs as the owner)."""

    async def complete_finished(self) -> list[tuple[UUID, UUID]]:
        """Running broadcasts with nothing left queued or sending become ``completed`` (not
        while an A/B test waits for its winner: the rest of the audience is still to come)."""
        rows = await self.session.execute(
            update(Campaign)
            .where(
                Campaign.status == CampaignStatus.running,
                Campaign.mode == "broadcast",
                ~awaiting_winner(),
                ~select(Message.id)
                .where(
                    Message.tenant_id == Campaign.tenant_id,
                    Message.campaign_id == Campaign.id,
                    Message.status.in_(PENDING),
                )
                .exists(),
            )
            .values(status=CampaignStatus.completed, completed_at=func.now(), updated_at=func.now())
            .returning(Campaign.tenant_id, Campaign.id)
        )
        return [(row[0], row[1]) for row in rows]

    async def tenant_of(self, campaign_id: UUID) -> UUID | None:
        """The campaign's tenant (the operator's command line names campaigns by id alone)."""
        found: UUID | None = await self.session.scalar(
            select(Campaign.tenant_id).where(Campaign.id == campaign_id)
        )
        return found

    async def due(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        """Scheduled campaigns whose time has come; recurring ones are the recurring sweep's
        (it sets their next run as it launches one)."""
        recurring = func.coalesce(Campaign.schedule["type"].astext, "") == "recurring"
        rows = await self.session.execute(
            select(Campaign.tenant_id, Campaign.id)
            .where(
                Campaign.status == CampaignStatus.scheduled,
                Campaign.next_run_at <= now,
                ~recurring,
            )
            .order_by(Campaign.next_run_at)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in rows]
