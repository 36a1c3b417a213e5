"""The simulator's native adapter end to end, and the registry every provider is in."""

from __future__ import annotations

import aiohttp
import httpx
import pytest

from herald.contact.models import ChannelKind
from herald.providers.base import (
    Accepted,
    DeliveryStatus,
    Failed,
    OptedOut,
    OutboundMessage,
    Receipt,
    RetryLater,
    SupportsLookup,
)
from herald.providers.registry import PROVIDERS
from herald.providers.simulator.adapter import SimulatorProvider
from herald.providers.simulator.config import SimulatorConfig
from tests.sim.server import Receiver, SimServer

SECRET = "sim-signing-secret"
provider = SimulatorProvider()


def config(base: str) -> SimulatorConfig:
    return SimulatorConfig.model_validate(
        {"api_base_url": base, "api_key": "k", "signing_secret": SECRET}
    )


def message(**extra: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "to": "+15557654321",
        "sender": "+15550009999",
        "reference": "r1",
        "body": "Hi",
    }
    return OutboundMessage(**(fields | extra))  # type: ignore[arg-type]


async def control(sim: SimServer, **settings: object) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.put(f"{sim.url}/control/senders/+15550009999", json=settings)
        assert response.status_code == 200, response.text


def test_registry_is_explicit_and_complete() -> None:
    assert set(PROVIDERS) == {"simulator", "twilio", "whatsapp_cloud", "vonage", "mitto"}
    assert {code for code, p in PROVIDERS.items() if isinstance(p, SupportsLookup)} == {
        "simulator",
        "twilio",
    }
    assert PROVIDERS["whatsapp_cloud"].kinds == {ChannelKind.whatsapp}
    for code, adapter in PROVIDERS.items():
        assert adapter.code == code
        for name in adapter.secret_fields:
            assert name in adapter.config_schema.model_fields


@pytest.mark.parametrize("code", ["twilio", "whatsapp_cloud", "vonage", "mitto", "simulator"])
def test_configs_forbid_unknown_fields(code: str) -> None:
    with pytest.raises(ValueError, match="extra"):
        PROVIDERS[code].config_schema.model_validate({"surprise": 1})


async def test_send_lookup_and_signed_receipts(
    sim: SimServer, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    await control(sim, signing_secret=SECRET, receipt_delay_ms=0, undelivered_share=1.0)
    cfg = config(sim.url)
    sent = await provider.send(http, cfg, message(status_callback_url=receiver.url + "/hook"))
    assert isinstance(sent, Accepted) and sent.provider_message_id.startswith("sim_")
    seen = []
    for _ in range(2):
        posted = await receiver.next()
        assert provider.verify(cfg, posted.url, posted.headers, posted.body)
        assert not provider.verify(cfg, posted.url, posted.headers, posted.body + b" ")
        [receipt] = provider.parse(cfg, posted.body, "application/json")
        assert isinstance(receipt, Receipt) and receipt.reference == "r1"
        seen.append(receipt.status)
    assert seen == [DeliveryStatus.sent, DeliveryStatus.undelivered]
    found = await provider.lookup(http, cfg, sent.provider_message_id)
    assert found is not None and found.status is DeliveryStatus.undelivered
    assert await provider.lookup(http, cfg, "sim_missing") is None


async def test_failure_classes_and_credentials(sim: SimServer, http: aiohttp.ClientSession) -> None:
    cfg = config(sim.url)
    for settings, expected in [
        ({"fail_permanent_share": 1.0}, Failed),
        ({"opt_out_share": 1.0}, OptedOut),
        ({"fail_transient_share": 1.0}, RetryLater),
        ({"down": True}, RetryLater),
    ]:
        await control(sim, **settings)
        assert isinstance(await provider.send(http, cfg, message()), expected)
    assert (await provider.check_credentials(http, cfg)).ok
    async with httpx.AsyncClient() as client:
        await client.put(f"{sim.url}/control/credentials/native", json={"secret": "other"})
    assert not (await provider.check_credentials(http, cfg)).ok
