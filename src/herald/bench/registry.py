"""Every benchmark scenario, by name, in one explicit dict."""

from __future__ import annotations

from herald.bench.scenarios import api as api_scenario
from herald.bench.scenarios import audience as audience_scenario
from herald.bench.scenarios import campaign as campaign_scenario
from herald.bench.scenarios import cost as cost_scenario
from herald.bench.scenarios import dispatch as dispatch_scenario
from herald.bench.scenarios import imports as import_scenario
from herald.bench.scenarios import inbox as inbox_scenario
from herald.bench.scenarios import receipts as receipts_scenario
from herald.bench.scenarios import redirect as redirect_scenario
from herald.bench.scenarios import segment as segment_scenario
from herald.bench.scenarios import sms as sms_scenario
from herald.bench.scenarios import template as template_scenario
from herald.bench.scenarios import wallet as wallet_scenario
from herald.bench.types import ScenarioSpec

SCENARIOS: dict[str, ScenarioSpec] = {
    "import": ScenarioSpec(
        import_scenario.run,
        1_000_000,
        "CSV contact import (mixed formats, 2% bad rows); baseline: raw COPY into a text table",
    ),
    "api": ScenarioSpec(
        api_scenario.run,
        2000,
        "authenticated GET of a small resource; baseline: the same server's /healthz",
    ),
    "segment": ScenarioSpec(
        segment_scenario.run,
        1_000_000,
        "preview count of a 3-condition segment; baseline: the same count in plain SQL",
    ),
    "template-render": ScenarioSpec(
        template_scenario.run,
        100_000,
        "render a marketing SMS template with footer per recipient; baseline: str.format",
    ),
    "cost": ScenarioSpec(
        cost_scenario.run,
        1_000_000,
        "price one SMS to an audience in 12 countries; baseline: the audience grouped in plain SQL",
    ),
    "redirect": ScenarioSpec(
        redirect_scenario.run,
        20_000,
        "GET /l/{token} at 1,000 requests/s over 10,000 links (open loop); "
        "baseline: the same server's /healthz at the same rate",
    ),
    "sms-inspect": ScenarioSpec(
        sms_scenario.run,
        1_000_000,
        "characterise mixed SMS bodies (encoding, segments, parts); baseline: len() and "
        "str.isascii() per body, the naive length / 160 or 70 guess",
    ),
    "wallet": ScenarioSpec(
        wallet_scenario.run,
        100_000,
        "prepaid reservations in batches of 500 by 2 workers; baseline: one plain UPDATE and "
        "INSERT … unnest per batch",
    ),
    "dispatch": ScenarioSpec(
        dispatch_scenario.run,
        200_000,
        "queued messages sent to the simulator by one worker with all bookkeeping; "
        "baseline: a bare aiohttp client posting the same requests to the same simulator",
    ),
    "receipts": ScenarioSpec(
        receipts_scenario.run,
        100_000,
        "signed Twilio status callbacks posted at concurrency 64 and applied by one worker, "
        "end to end; baseline: the same server's /healthz at the same concurrency",
    ),
    "inbox": ScenarioSpec(
        inbox_scenario.run,
        1_000_000,
        "first two pages of open unread conversations over a tenant's messages; baseline: the "
        "same pages in plain SQL",
    ),
    "audience": ScenarioSpec(
        audience_scenario.run,
        1_000_000,
        "launch a marketing campaign (2 variants, quiet hours) to 1,000,000 eligible contacts "
        "among opt-outs, DNC and a suppression rule; baseline: a bare INSERT … SELECT of as "
        "many rows into an unindexed copy of messages",
    ),
    "campaign": ScenarioSpec(
        campaign_scenario.run,
        100_000,
        "a campaign to 100,000 recipients from POST …/send to completed, API, worker and "
        "simulator running; baseline: a bare aiohttp client posting as many requests to the "
        "same simulator",
    ),
}
