"""All SQL of the campaign automation. It runs as the owner (the sweeps span tenants), so each
statement matches rows by tenant **and** id, and only from the states the sweep expects: a
campaign a person paused meanwhile is never resumed by a sweep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import text

from herald.kit.repository import Repository

AUTOMATIC_REASONS = (
    "tenant_paused",
    "daily_budget_reached",
    "monthly_budget_reached",
    "template_paused",
    "template_disabled",
)
"""Reasons the sweeps pause a campaign for, and lift when they no longer hold. A campaign
paused by a person has another reason (or none) and stays paused."""

_TEMPLATE_IN = """
    EXISTS (SELECT 1 FROM whatsapp_templates w
            WHERE w.tenant_id = k.tenant_id AND w.status = '{status}'
              AND (w.id IN (SELECT v.whatsapp_template_id FROM campaign_variants v
                            WHERE v.tenant_id = k.tenant_id AND v.campaign_id = k.id)
                   OR w.id IN (SELECT s.whatsapp_template_id FROM campaign_steps s
                               WHERE s.tenant_id = k.tenant_id AND s.campaign_id = k.id)))
"""

_HOLDS = text(
    f"""
    WITH wanted AS (
        SELECT k.id, k.tenant_id,
               CASE WHEN t.is_paused THEN 'tenant_paused'
                    WHEN b.reached_until > :now THEN b.reached
                    WHEN {_TEMPLATE_IN.format(status="DISABLED")} THEN 'template_disabled'
                    WHEN {_TEMPLATE_IN.format(status="PAUSED")} THEN 'template_paused'
               END AS reason
        FROM campaigns k
        JOIN tenants t ON t.id = k.tenant_id
        LEFT JOIN budgets b ON b.tenant_id = k.tenant_id
        WHERE k.status = 'running'
           OR (k.status = 'paused' AND k.status_reason = ANY(CAST(:automatic AS text[])))
    )
    UPDATE campaigns k
    SET status = CASE WHEN w.reason IS NULL THEN 'running' ELSE 'paused' END,
        status_reason = w.reason,
        updated_at = :now
    FROM wanted w
    WHERE k.id = w.id AND k.tenant_id = w.tenant_id
      AND k.status_reason IS DISTINCT FROM w.reason
      AND (k.status = 'running'
           OR (k.status = 'paused' AND k.status_reason = ANY(CAST(:automatic AS text[]))))
    RETURNING k.tenant_id, k.id, k.status, k.status_reason
    """  # noqa: S608 - constant fragments
)
"""One statement for every campaign: what should hold it now (the kill switch first, then the
budget, then its WhatsApp templates), applied where it differs from what it shows."""

_UNARMED = text(
    """
    SELECT k.tenant_id, k.id, k.schedule, k.run_count, k.launched_at, k.created_at, t.timezone
    FROM campaigns k JOIN tenants t ON t.id = k.tenant_id
    WHERE k.status IN ('running', 'completed') AND k.next_run_at IS NULL
      AND k.schedule ->> 'type' = 'recurring'
    ORDER BY k.id
    LIMIT :limit
    """
)

_ARM = text(
    """
    UPDATE campaigns k
    SET next_run_at = v.at, updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:ats AS timestamptz[]))
         AS v(id, tenant_id, at)
    WHERE k.id = v.id AND k.tenant_id = v.tenant_id AND k.next_run_at IS NULL
    """
)

_DUE_RECURRING = text(
    """
    SELECT tenant_id, id FROM campaigns
    WHERE next_run_at <= :now AND schedule ->> 'type' = 'recurring'
      AND status IN ('scheduled', 'running', 'completed')
    ORDER BY next_run_at
    LIMIT :limit
    """
)

_AB_DUE = text(
    """
    SELECT tenant_id, id FROM campaigns
    WHERE status = 'running' AND ab IS NOT NULL AND ab ->> 'decided_at' IS NULL
      AND launched_at + make_interval(mins => CASE
            WHEN jsonb_typeof(ab -> 'decide_after_minutes') = 'number'
            THEN CAST(ab ->> 'decide_after_minutes' AS integer) END) <= :now
    ORDER BY launched_at
    LIMIT :limit
    """
)

_VARIANT_RATES = text(
    """
    SELECT v.id,
           count(DISTINCT m.id) FILTER (WHERE m.status IN ('sent', 'delivered', 'read')),
           count(DISTINCT e.contact_id)
    FROM campaign_variants v
    LEFT JOIN messages m
           ON m.tenant_id = v.tenant_id AND m.campaign_id = v.campaign_id
          AND m.campaign_round = :round AND m.variant_id = v.id
    LEFT JOIN events e
           ON e.tenant_id = m.tenant_id AND e.campaign_id = m.campaign_id
          AND e.contact_id = m.contact_id AND e.type = :event
    WHERE v.tenant_id = :tenant AND v.campaign_id = :campaign
    GROUP BY v.id, v.position
    ORDER BY v.position
    """
)
"""Per variant, in order: messages of the round that reached the provider, and the distinct
contacts among their recipients who clicked (or replied)."""

_TIER_OVERFLOW = text(
    """
    WITH tiered AS (
        SELECT k.id, k.tenant_id, CAST(CAST(:tiers AS jsonb) ->> c.messaging_tier AS bigint) AS tier
        FROM campaigns k
        JOIN channels c ON c.id = k.channel_id AND c.tenant_id = k.tenant_id
        WHERE k.status = 'running' AND k.kind = 'whatsapp'
          AND CAST(:tiers AS jsonb) ? c.messaging_tier
    ),
    reached AS (
        SELECT m.campaign_id, count(DISTINCT m.to_address) AS people, min(m.sending_at) AS oldest
        FROM tiered JOIN messages m ON m.tenant_id = tiered.tenant_id AND m.campaign_id = tiered.id
        WHERE m.status <> 'queued' AND m.sending_at > :since
        GROUP BY m.campaign_id
    ),
    waiting AS (
        SELECT m.id, m.tenant_id, m.campaign_id,
               row_number() OVER (PARTITION BY m.campaign_id ORDER BY m.next_attempt_at, m.id) AS n
        FROM tiered JOIN messages m ON m.tenant_id = tiered.tenant_id AND m.campaign_id = tiered.id
        WHERE m.status = 'queued' AND m.next_attempt_at <= :horizon
          AND NOT EXISTS (SELECT 1 FROM messages p
                          WHERE p.tenant_id = m.tenant_id AND p.campaign_id = m.campaign_id
                            AND p.status <> 'queued' AND p.to_address = m.to_address
                            AND p.sending_at > :since)
    )
    UPDATE messages m
    SET next_attempt_at = COALESCE(r.oldest, :now) + interval '24 hours', updated_at = :now
    FROM waiting w
    JOIN tiered ON tiered.id = w.campaign_id
    LEFT JOIN reached r ON r.campaign_id = w.campaign_id
    WHERE m.id = w.id AND m.tenant_id = w.tenant_id AND m.status = 'queued'
      AND w.n > tiered.tier - COALESCE(r.people, 0)
    RETURNING m.id
    """
)
"""Per running WhatsApp campaign on a channel with a tier: the people it reached in the last
24 hours, and its queued messages due soon to people it has not; those past the tier's room
wait until the oldest send of the window is 24 hours old (the next sweep looks again). Every
read goes through the per-campaign index, so the sweep costs what the campaigns hold."""


@dataclass(frozen=True, slots=True)
class Hold:
    tenant_id: UUID
    campaign_id: UUID
    status: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Unarmed:
    """A recurring campaign without a next run, with what that run is computed from."""

    tenant_id: UUID
    campaign_id: UUID
    schedule: dict[str, Any]
    run_count: int
    first_launch: datetime
    timezone: str


class AutomationRepository(Repository):
    async def apply_holds(self, now: datetime) -> list[Hold]:
        rows = await self.session.execute(
            _HOLDS, {"now": now, "automatic": list(AUTOMATIC_REASONS)}
        )
        return [Hold(*row) for row in rows]

    async def unarmed_recurring(self, limit: int) -> list[Unarmed]:
        """Recurring campaigns with no next run set (a run launched by hand, or just over)."""
        rows = await self.session.execute(_UNARMED, {"limit": limit})
        return [
            Unarmed(tenant, campaign, schedule, runs, launched or created, zone)
            for tenant, campaign, schedule, runs, launched, created, zone in rows
        ]

    async def arm(self, runs: Sequence[tuple[UUID, UUID, datetime]], now: datetime) -> None:
        await self.session.execute(
            _ARM,
            {
                "now": now,
                "tenants": [r[0] for r in runs],
                "ids": [r[1] for r in runs],
                "ats": [r[2] for r in runs],
            },
        )

    async def due_recurring(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        rows = await self.session.execute(_DUE_RECURRING, {"now": now, "limit": limit})
        return [(row[0], row[1]) for row in rows]

    async def ab_due(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        rows = await self.session.execute(_AB_DUE, {"now": now, "limit": limit})
        return [(row[0], row[1]) for row in rows]

    async def variant_rates(
        self, tenant_id: UUID, campaign_id: UUID, round_: int, event: str
    ) -> list[tuple[UUID, int, int]]:
        rows = await self.session.execute(
            _VARIANT_RATES,
            {"tenant": tenant_id, "campaign": campaign_id, "round": round_, "event": event},
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    async def hold_past_tiers(
        self, tiers: dict[str, int], since: datetime, horizon: datetime, now: datetime
    ) -> int:
        rows = await self.session.execute(
            _TIER_OVERFLOW,
            {"tiers": _json(tiers), "since": since, "horizon": horizon, "now": now},
        )
        return len(rows.all())


def _json(value: dict[str, int]) -> str:
    return orjson.dumps(value).decode()
