"""The accept path's channel cache: a channel missing from it is read once, however many
requests miss it together, and a read that finds nothing is not cached."""

from __future__ import annotations

import asyncio

from herald.hook.repository import HookChannel
from herald.hook.service import ChannelCache, Known
from herald.kit.ids import new_id
from herald.providers.registry import PROVIDERS
from tests.hook.helpers import CONFIGS


def _known() -> Known:
    provider = PROVIDERS["simulator"]
    channel = HookChannel(new_id(), new_id(), "simulator", dict(CONFIGS["simulator"]))
    return Known(channel, provider, provider.config_schema.model_validate(channel.config))


async def test_requests_missing_the_same_channel_together_read_it_once() -> None:
    cache, known, reads = ChannelCache(), _known(), []

    async def read() -> Known | None:
        reads.append(known.channel.id)
        await asyncio.sleep(0.01)  # the database's round trip: every request arrives meanwhile
        return known

    found = await asyncio.gather(*(cache.read_once(known.channel.id, read) for _ in range(20)))

    assert reads == [known.channel.id]
    assert found == [known] * 20
    assert cache.get(known.channel.id) == known


async def test_an_unknown_channel_is_read_again_next_time() -> None:
    cache, reads = ChannelCache(), []
    channel_id = new_id()

    async def read() -> Known | None:
        reads.append(channel_id)
        return None

    assert await cache.read_once(channel_id, read) is None
    assert await cache.read_once(channel_id, read) is None
    assert reads == [channel_id, channel_id] and cache.get(channel_id) is None


async def test_a_request_that_goes_away_does_not_cancel_the_others_read() -> None:
    cache, known = ChannelCache(), _known()
    release = asyncio.Event()

    async def read() -> Known | None:
        await release.wait()
        return known

    leaving = asyncio.ensure_future(cache.read_once(known.channel.id, read))
    staying = asyncio.ensure_future(cache.read_once(known.channel.id, read))
    await asyncio.sleep(0)
    leaving.cancel()
    release.set()

    assert await staying == known
    assert leaving.cancelled()
