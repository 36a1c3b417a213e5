"""What a Twilio channel is given. Secret: ``auth_token``."""

from __future__ import annotations

from pydantic import Field, SecretStr

from herald.providers.base import ProviderConfig

API_BASE_URL = "https://api.twilio.com"


class TwilioConfig(ProviderConfig):
    api_base_url: str = Field(default=API_BASE_URL, max_length=300)
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr = Field(min_length=8, max_length=200)
    messaging_service_sid: str | None = Field(
        default=None,
        pattern=r"^MG[0-9a-fA-F]{32}$",
        description="Send through this Messaging Service instead of the message's sender.",
    )
