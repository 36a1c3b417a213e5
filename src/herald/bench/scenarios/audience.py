"""Scenario ``audience``: launch a marketing campaign to ``size`` eligible contacts.

One tenant gets ``size`` eligible contacts (UK and US numbers, a zone on one in four) plus
about a tenth more that the rules must leave out: opted out, on the do-not-contact list, or
messaged inside the window of an active suppression rule. Seeded once per bench database with
``INSERT … SELECT generate_series``, then ``VACUUM ANALYZE`` and a checkpoint; contact ids
are time-ordered UUIDv7, as imports and the API make them (random ones would scatter every
index insert).

Timed: ``herald.campaign.service.launch`` in a tenant-scoped transaction (row-level security
on), commit included: eligibility, quiet-hours send times per zone and law, the A/B split,
prices, the ``INSERT … SELECT`` and the indexes of ``messages``. Baseline, in the same run: a
bare ``INSERT … SELECT`` of as many rows from ``contacts`` into an unindexed copy of
``messages``, as the owner, its ids made as the launch makes them (one block per statement).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, text

from herald.bench.types import BenchContext, Measurement
from herald.campaign import service
from herald.campaign.schemas import CampaignCreate
from herald.channel.models import Channel
from herald.contact.models import ChannelKind
from herald.imports.repository import UUID7_SQL
from herald.kit.crypto import load_keyring, use_keyring
from herald.kit.ids import id_block, new_id
from herald.kit.models import utcnow
from herald.settings import Settings
from herald.tenant.flows import onboard_tenant
from herald.tenant.models import Tenant
from herald.tenant.schemas import TenantCreate

TENANT_NAME = "Audience Bench"
LEFT_OUT_EVERY = 10
"""One contact in ten is left out: by opt-out, do-not-contact or suppression, in turn."""

SEED = text(
    f"""
    INSERT INTO contacts (id, tenant_id, phone_e164, sms_status, timezone, last_sent_at,
                          created_at, updated_at)
    SELECT {UUID7_SQL}, :tenant_id,
           CASE WHEN i % 2 = 0 THEN '+4479' || lpad(i::text, 8, '0')
                ELSE '+1' || (ARRAY['201','305','415','646'])[1 + i % 4]
                     || (2000000 + i % 8000000)::text END,
           CASE WHEN i % :every = 1 THEN 'opted_out' ELSE 'opted_in' END,
           CASE WHEN i % 4 = 3 THEN 'Europe/Paris' END,
           CASE WHEN i % :every = 3 THEN now() - interval '1 day' END,
           now(), now()
    FROM generate_series(1, :count) AS i
    """  # noqa: S608 - constant
)
DNC = text(
    """
    INSERT INTO do_not_contact (id, tenant_id, phone_hash, reason, created_at)
    SELECT gen_random_uuid(), tenant_id, phone_hash, 'request', now()
    FROM (SELECT tenant_id, phone_hash, row_number() OVER () AS n FROM contacts
          WHERE tenant_id = :tenant_id AND sms_status = 'opted_in' AND last_sent_at IS NULL) c
    WHERE n % :every = 5
    """
)
RULE = text(
    """
    INSERT INTO suppression_rules (id, tenant_id, name, window_days, is_active, created_at,
                                   updated_at)
    VALUES (gen_random_uuid(), :tenant_id, 'a week between campaigns', 7, true, now(), now())
    """
)
MAY_CHECKPOINT = text(
    "SELECT rolsuper OR pg_has_role(current_user, 'pg_checkpoint', 'MEMBER') "
    "FROM pg_roles WHERE rolname = current_user"
)
"""The seed writes more WAL than a launch; a checkpoint right after it keeps the seed's own
writes (and a checkpoint it would set off) out of the timed launch, where one run would pay
for them and the next would not."""
BASELINE_TABLE = text(
    "CREATE TEMP TABLE audience_baseline (LIKE messages INCLUDING DEFAULTS) ON COMMIT DROP"
)
BASELINE = text(
    """
    INSERT INTO audience_baseline (id, tenant_id, channel_id, contact_id, campaign_id,
        direction, purpose, to_address, from_address, body, status, next_attempt_at,
        queued_at, created_at, updated_at)
    SELECT (:id_high || to_hex(:id_low + row_number() OVER ()))::uuid, tenant_id, :channel_id,
           id, :campaign_id, 'outbound',
           'marketing', phone_e164, '+15550001111', 'Spring sale. Reply STOP to opt out',
           'queued', now(), now(), now(), now()
    FROM contacts WHERE tenant_id = :tenant_id
    LIMIT :count
    """
)


async def seed(ctx: BenchContext, size: int) -> tuple[UUID, UUID]:
    """The bench tenant and its channel; contacts inserted the first time only."""
    async with ctx.db.system_session() as session:
        existing = await session.scalar(select(Tenant.id).where(Tenant.name == TENANT_NAME))
        if existing is not None:
            found = await session.scalar(select(Channel.id).where(Channel.tenant_id == existing))
            assert found is not None
            return existing, found
        done = await onboard_tenant(session, TenantCreate(name=TENANT_NAME), "aud@bench.test")
        tenant_id = done.tenant.id
        total = size * LEFT_OUT_EVERY // (LEFT_OUT_EVERY - 3)
        params: dict[str, Any] = {"tenant_id": tenant_id, "every": LEFT_OUT_EVERY}
        await session.execute(SEED, {**params, "count": total})
        await session.execute(DNC, params)
        await session.execute(RULE, params)
        channel = Channel(
            id=new_id(),
            tenant_id=tenant_id,
            kind=ChannelKind.sms,
            provider="simulator",
            name="bench",
            sender="+15550001111",
            config={},
        )
        session.add(channel)
    async with ctx.db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("contacts", "do_not_contact", "messages"):
            await conn.execute(text(f"VACUUM ANALYZE {table}"))
        if await conn.scalar(MAY_CHECKPOINT):
            await conn.execute(text("CHECKPOINT"))
    return tenant_id, channel.id


async def _draft(ctx: BenchContext, tenant_id: UUID, channel_id: UUID) -> UUID:
    data = CampaignCreate.model_validate(
        {
            "name": f"Audience bench {new_id().hex[-6:]}",
            "channel_id": str(channel_id),
            "audience": {"all": True},
            "variants": [
                {"body": "Spring sale: 20% off. Reply STOP to opt out", "share_percent": 50},
                {"body": "Spring sale, today only. Reply STOP to opt out", "share_percent": 50},
            ],
        }
    )
    async with ctx.db.tenant_session(tenant_id) as session:
        campaign = await service.create_campaign(session, tenant_id, data, "bench")
        return campaign.id


async def _launch(ctx: BenchContext, tenant_id: UUID, campaign_id: UUID, now: datetime) -> int:
    async with ctx.db.tenant_session(tenant_id) as session:
        campaign = await service.get_campaign(session, tenant_id, campaign_id, for_update=True)
        return await service.launch(session, campaign, now)


async def run(ctx: BenchContext, size: int) -> Measurement:
    with use_keyring(load_keyring(Settings(data_dir=ctx.workdir))):
        return await _measure(ctx, size)


async def _measure(ctx: BenchContext, size: int) -> Measurement:
    tenant_id, channel_id = await seed(ctx, size)
    campaign_id = await _draft(ctx, tenant_id, channel_id)
    started = time.perf_counter()
    added = await _launch(ctx, tenant_id, campaign_id, utcnow())
    seconds = time.perf_counter() - started

    async with ctx.db.system_session() as session:
        await session.execute(BASELINE_TABLE)
        id_high, id_low = id_block()
        started = time.perf_counter()
        await session.execute(
            BASELINE,
            {
                "id_high": id_high,
                "id_low": id_low,
                "tenant_id": tenant_id,
                "channel_id": channel_id,
                "campaign_id": campaign_id,
                "count": added,
            },
        )
        baseline_seconds = time.perf_counter() - started
        later = await session.scalar(
            text(
                "SELECT count(*) FROM messages WHERE campaign_id = :c "
                "AND next_attempt_at > now() + interval '1 minute'"
            ),
            {"c": campaign_id},
        )
    extra = {
        "messages": added,
        "held_by_quiet_hours": int(later or 0),
        "launch_ms": round(seconds * 1000, 1),
        "baseline_ms": round(baseline_seconds * 1000, 1),
        "target_seconds": 10,
    }
    return Measurement(added, seconds, baseline_seconds, unit="messages", extra=extra)
