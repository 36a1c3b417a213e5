"""What a Mitto channel is given. Secrets: ``api_key``, ``webhook_token``.

Mitto documents no signature on its delivery reports, nor their field names for certain: the
receipt URL carries a per-channel secret ``token`` query parameter (checked in constant time),
and the field names are configurable, defaulting to what the simulator sends.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from herald.providers.base import ProviderConfig

API_BASE_URL = "https://rest.mittoapi.net"


class MittoDlrFields(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default="id", max_length=40)
    status: str = Field(default="status", max_length=40)
    reference: str = Field(default="reference", max_length=40)
    error: str = Field(default="errorCode", max_length=40)
    timestamp: str = Field(default="timestamp", max_length=40)


class MittoConfig(ProviderConfig):
    api_base_url: str = Field(default=API_BASE_URL, max_length=300)
    api_key: SecretStr = Field(min_length=8, max_length=200)
    webhook_token: SecretStr = Field(min_length=16, max_length=200)
    dlr_fields: MittoDlrFields = Field(default_factory=MittoDlrFields)
