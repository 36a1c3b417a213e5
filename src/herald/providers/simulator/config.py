"""What a channel on Herald's own provider simulator is given. Secrets: ``api_key``,
``signing_secret``. The simulator accepts any non-empty API key."""

from __future__ import annotations

from pydantic import Field, SecretStr

from herald.providers.base import ProviderConfig

API_BASE_URL = "http://127.0.0.1:8000/sim"
"""The simulator is mounted by the API process under ``/sim``."""


class SimulatorConfig(ProviderConfig):
    api_base_url: str = Field(default=API_BASE_URL, max_length=300)
    api_key: SecretStr = Field(min_length=1, max_length=200)
    signing_secret: SecretStr = Field(min_length=8, max_length=200)
