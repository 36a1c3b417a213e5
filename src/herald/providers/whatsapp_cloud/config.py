"""What a WhatsApp Cloud API channel is given. Secrets: ``access_token``, ``app_secret``,
``verify_token``."""

from __future__ import annotations

from pydantic import Field, SecretStr

from herald.providers.base import ProviderConfig

API_BASE_URL = "https://graph.facebook.com"
API_VERSION = "v23.0"


class WhatsAppCloudConfig(ProviderConfig):
    api_base_url: str = Field(default=API_BASE_URL, max_length=300)
    api_version: str = Field(default=API_VERSION, pattern=r"^v\d{1,3}\.\d{1,2}$")
    phone_number_id: str = Field(pattern=r"^\d{1,30}$")
    waba_id: str | None = Field(default=None, pattern=r"^\d{1,30}$")
    access_token: SecretStr = Field(min_length=8, max_length=1000)
    app_secret: SecretStr = Field(min_length=8, max_length=200)
    verify_token: SecretStr | None = Field(default=None, min_length=8, max_length=200)

    def graph_url(self, path: str) -> str:
        return f"{self.api_base_url}/{self.api_version}/{path}"
