"""The campaign automation's periodic jobs (see ``herald.campaign.automation``)."""

from __future__ import annotations

import procrastinate
from procrastinate.job_context import JobContext

from herald.campaign import automation, automation_drip
from herald.kit.jobs import resources_of
from herald.kit.models import utcnow

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="* * * * * */10", periodic_id="holds")
@blueprint.task(name="holds", queue="campaign", pass_context=True)
async def holds(context: JobContext, timestamp: int) -> int:
    """Every 10 seconds: campaigns show (and lift) the kill switch, a reached budget and a
    paused or disabled WhatsApp template. Sends themselves stop sooner: the dispatcher checks
    the kill switch and the budget at every batch."""
    async with resources_of(context).db.system_session() as session:
        return len(await automation.apply_holds(session, utcnow()))


@blueprint.periodic(cron="* * * * *", periodic_id="recurring")
@blueprint.task(name="recurring", queue="campaign", pass_context=True)
async def recurring(context: JobContext, timestamp: int) -> int:
    """Every minute: due recurring campaigns launch their next run."""
    return await automation.run_recurring(resources_of(context).db, utcnow())


@blueprint.periodic(cron="* * * * *", periodic_id="ab_winners")
@blueprint.task(name="ab_winners", queue="campaign", pass_context=True)
async def ab_winners(context: JobContext, timestamp: int) -> int:
    """Every minute: A/B tests whose time has come pick their winner and send it on."""
    return await automation.decide_winners(resources_of(context).db, utcnow())


@blueprint.periodic(cron="* * * * *", periodic_id="tiers")
@blueprint.task(name="tiers", queue="campaign", pass_context=True)
async def tiers(context: JobContext, timestamp: int) -> int:
    """Every minute: WhatsApp campaign messages past their channel's messaging tier wait."""
    async with resources_of(context).db.system_session() as session:
        return await automation.bound_by_tiers(session, utcnow())


@blueprint.periodic(cron="* * * * *", periodic_id="drips")
@blueprint.task(name="drips", queue="campaign", pass_context=True)
async def drips(context: JobContext, timestamp: int) -> int:
    """Every minute: drip contacts get the steps that are due (and stop when they engage)."""
    return await automation_drip.run_drips(resources_of(context).db, utcnow())
