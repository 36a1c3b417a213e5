"""What a Vonage (SMS API) channel is given. Secrets: ``api_secret``, ``signature_secret``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from herald.providers.base import ProviderConfig

API_BASE_URL = "https://rest.nexmo.com"

SignatureMethod = Literal["md5hash", "md5", "sha1", "sha256", "sha512"]


class VonageConfig(ProviderConfig):
    api_base_url: str = Field(default=API_BASE_URL, max_length=300)
    api_key: str = Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9]+$")
    api_secret: SecretStr = Field(min_length=4, max_length=200)
    signature_secret: SecretStr | None = Field(
        default=None,
        min_length=8,
        max_length=200,
        description="Vonage's signature secret; webhooks are refused until it is set.",
    )
    signature_method: SignatureMethod = Field(
        default="md5hash", description="The signing method chosen in the Vonage dashboard."
    )
    signature_window_seconds: int = Field(default=300, ge=30, le=3600)
