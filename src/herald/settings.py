"""Runtime settings, read from ``HERALD_*`` environment variables (see docs/configuration.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL >= 15 URL. Unset: an embedded PostgreSQL is started in data_dir.",
    )
    data_dir: Path = Field(default=Path(".herald"), description="Embedded database, keys, state.")
    host: str = "127.0.0.1"
    port: int = 8000
    sim_port: int = 8001
    public_url: str | None = Field(default=None, description="Base URL users reach the API at.")
    environment: str = Field(default="development", description="development | production")
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="Force JSON logs; default: not a TTY.")

    secret_key: SecretStr | None = Field(
        default=None, description="Signs JWTs. Unset: generated once into data_dir."
    )
    encryption_keys: str | None = Field(
        default=None,
        description="Comma-separated 'kid:base64key' AES-256 keys; the first encrypts. "
        "Unset: a keyring file in data_dir is used.",
    )
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    magic_link_minutes: int = 15
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    auth_rate_limit_per_minute: int = 10

    mailer: str = Field(default="console", description="console | smtp")
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "Herald <no-reply@herald.local>"

    db_pool_size: int = 10
    demo: bool = Field(default=True, description="Create a demo tenant on a new data dir.")

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
