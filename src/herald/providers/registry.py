"""Every provider Herald can send through, by the code a channel stores. An explicit list:
adding a provider is one line here, never an import side effect."""

from __future__ import annotations

from typing import Any

from herald.providers.base import Provider
from herald.providers.mitto.adapter import MittoProvider
from herald.providers.simulator.adapter import SimulatorProvider
from herald.providers.twilio.adapter import TwilioProvider
from herald.providers.vonage.adapter import VonageProvider
from herald.providers.whatsapp_cloud.adapter import WhatsAppCloudProvider

ALL: tuple[Provider[Any], ...] = (
    SimulatorProvider(),
    TwilioProvider(),
    WhatsAppCloudProvider(),
    VonageProvider(),
    MittoProvider(),
)

PROVIDERS: dict[str, Provider[Any]] = {provider.code: provider for provider in ALL}
