"""All SQL of drip sequences. Runs as the owner (the sweep spans tenants): every statement
matches rows by tenant **and** campaign, and only running drip campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text

from herald.kit.repository import Repository

_ENROLL = text(
    """
    INSERT INTO campaign_enrollments
        (tenant_id, campaign_id, contact_id, step_position, next_step_at, enrolled_at, updated_at)
    SELECT m.tenant_id, m.campaign_id, m.contact_id, 0,
           m.created_at + make_interval(mins => s.delay_minutes), :now, :now
    FROM campaigns k
    JOIN messages m ON m.tenant_id = k.tenant_id AND m.campaign_id = k.id
    JOIN contacts c ON c.tenant_id = m.tenant_id AND c.id = m.contact_id
    JOIN campaign_steps s ON s.tenant_id = k.tenant_id AND s.campaign_id = k.id AND s.position = 0
    WHERE k.status = 'running' AND k.mode = 'drip' AND m.campaign_round = 0
      AND NOT EXISTS (SELECT 1 FROM campaign_enrollments e
                      WHERE e.tenant_id = k.tenant_id AND e.campaign_id = k.id)
    ON CONFLICT (campaign_id, contact_id) DO NOTHING
    """
)
"""Who the launch reached (round 0, the campaign's own message) walks through the steps, the
first one ``delay_minutes`` after that message; once per campaign, right after its launch.
``messages`` has no foreign keys: the join on ``contacts`` leaves out a message whose contact
was deleted as the launch ran, which the enrollment's own key would refuse, failing the sweep
for every campaign."""

_STOP = text(
    """
    UPDATE campaign_enrollments e
    SET stopped_reason = CASE WHEN bool_or_opt.opted THEN 'opted_out'
                              WHEN bool_or_opt.replied THEN 'replied'
                              ELSE 'clicked' END,
        next_step_at = NULL, updated_at = :now
    FROM (
        SELECT x.campaign_id, x.contact_id,
               bool_or(x.type = 'opt_out') AS opted, bool_or(x.type = 'replied') AS replied
        FROM events x
        JOIN campaign_enrollments y
          ON y.campaign_id = x.campaign_id AND y.contact_id = x.contact_id
         AND y.tenant_id = x.tenant_id
        WHERE x.type IN ('replied', 'clicked', 'opt_out') AND y.stopped_reason IS NULL
        GROUP BY x.campaign_id, x.contact_id
    ) AS bool_or_opt
    WHERE e.campaign_id = bool_or_opt.campaign_id AND e.contact_id = bool_or_opt.contact_id
      AND e.stopped_reason IS NULL
    """
)
"""A contact who replied to, clicked in or opted out of the campaign stops (an opt-out anywhere
also keeps them out of every step: the launch's eligibility rules apply at each step)."""

_DUE = text(
    """
    SELECT DISTINCT e.tenant_id, e.campaign_id, e.step_position
    FROM campaign_enrollments e
    JOIN campaigns k ON k.tenant_id = e.tenant_id AND k.id = e.campaign_id
    WHERE e.stopped_reason IS NULL AND e.next_step_at <= :now
      AND k.status = 'running' AND k.mode = 'drip'
    ORDER BY e.campaign_id, e.step_position
    LIMIT :limit
    """
)

_ADVANCE = text(
    """
    UPDATE campaign_enrollments e
    SET step_position = e.step_position + 1,
        next_step_at = CASE WHEN s.position IS NULL THEN NULL
                            ELSE :now + make_interval(mins => s.delay_minutes) END,
        stopped_reason = CASE WHEN s.position IS NULL THEN 'completed' END,
        updated_at = :now
    FROM (SELECT 1) AS one
    LEFT JOIN campaign_steps s
           ON s.tenant_id = :tenant AND s.campaign_id = :campaign AND s.position = :position + 1
    WHERE e.tenant_id = :tenant AND e.campaign_id = :campaign AND e.step_position = :position
      AND e.stopped_reason IS NULL AND e.next_step_at <= :now
    """
)

_COMPLETE = text(
    """
    UPDATE campaigns k
    SET status = 'completed', completed_at = :now, updated_at = :now
    WHERE k.status = 'running' AND k.mode = 'drip'
      AND EXISTS (SELECT 1 FROM campaign_enrollments e
                  WHERE e.tenant_id = k.tenant_id AND e.campaign_id = k.id)
      AND NOT EXISTS (SELECT 1 FROM campaign_enrollments e
                      WHERE e.tenant_id = k.tenant_id AND e.campaign_id = k.id
                        AND e.stopped_reason IS NULL)
      AND NOT EXISTS (SELECT 1 FROM messages m
                      WHERE m.tenant_id = k.tenant_id AND m.campaign_id = k.id
                        AND m.status IN ('queued', 'sending'))
    RETURNING k.id
    """
)


@dataclass(frozen=True, slots=True)
class DueStep:
    """One drip campaign's step ``position``, due for some of its contacts."""

    tenant_id: UUID
    campaign_id: UUID
    position: int


class DripRepository(Repository):
    async def enroll(self, now: datetime) -> int:
        result = await self.session.execute(_ENROLL, {"now": now})
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def stop_engaged(self, now: datetime) -> int:
        result = await self.session.execute(_STOP, {"now": now})
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, now: datetime, limit: int) -> list[DueStep]:
        rows = await self.session.execute(_DUE, {"now": now, "limit": limit})
        return [DueStep(*row) for row in rows]

    async def advance(self, step: DueStep, now: datetime) -> None:
        """Move the contacts past the step: to the next one after its delay, or done."""
        await self.session.execute(
            _ADVANCE,
            {
                "now": now,
                "tenant": step.tenant_id,
                "campaign": step.campaign_id,
                "position": step.position,
            },
        )

    async def complete_finished(self, now: datetime) -> int:
        """Running drips whose every contact is done and nothing is left to send."""
        return len((await self.session.execute(_COMPLETE, {"now": now})).all())
