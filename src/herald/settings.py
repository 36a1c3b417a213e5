"""Runtime settings, read from ``HERALD_*`` environment variables (see docs/configuration.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not a bind
"""Listening on every interface: the public URL defaults to the loopback one."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL >= 15 URL. Unset: an embedded PostgreSQL is started in data_dir.",
    )
    data_dir: Path = Field(default=Path(".herald"), description="Embedded database, keys, state.")
    host: str = Field(default="127.0.0.1", description="Interface the API listens on.")
    port: int = Field(default=8000, description="API port.")
    sim_enabled: bool = Field(
        default=True,
        description="Serve the provider simulator under /sim on the API's port. Turn off in "
        "production: it accepts any credentials and posts to any callback URL it is given.",
    )
    sim_port: int = Field(default=8001, description="Port of a standalone `herald sim`.")
    public_url: str | None = Field(
        default=None,
        description="Base URL users and providers reach the API at (HERALD_PUBLIC_URL). Webhook "
        "signatures are checked over it. Unset: http://127.0.0.1:<port> (the host when the API "
        "listens on a specific address).",
    )
    webhook_retention_days: int = Field(
        default=90, ge=1, description="Days stored provider callbacks are kept."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_json: bool | None = Field(default=None, description="Force JSON logs; default: not a TTY.")

    secret_key: SecretStr | None = Field(
        default=None, description="Signs JWTs. Unset: generated once into data_dir."
    )
    encryption_keys: str | None = Field(
        default=None,
        description="Comma-separated 'kid:base64key' AES-256 keys; the first encrypts. "
        "Unset: a keyring file in data_dir is used.",
    )
    access_token_minutes: int = Field(default=15, description="Lifetime of a JWT access token.")
    refresh_token_days: int = Field(default=30, description="Lifetime of a refresh token.")
    magic_link_minutes: int = Field(default=15, description="Lifetime of a magic sign-in link.")
    lockout_threshold: int = Field(default=5, description="Failed passwords before a lockout.")
    lockout_minutes: int = Field(default=15, description="How long a lockout lasts.")
    auth_rate_limit_per_minute: int = Field(
        default=10, description="Sign-in attempts per minute per IP and per email (all replicas)."
    )
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed; "
        "default none: the client is the TCP peer.",
    )

    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1, description="Largest request body, unless a prefix says more."
    )
    body_limits: dict[str, int] = Field(
        default_factory=lambda: {"/v1/imports": 200 * 1024 * 1024, "/v1/hooks/": 256 * 1024},
        description='JSON {"<path prefix>": bytes}: the longest matching prefix sets the limit.',
    )

    mailer: str = Field(default="console", description="console | smtp")
    smtp_host: str = Field(default="localhost", description="SMTP server, with mailer=smtp.")
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "Herald <no-reply@herald.local>"

    db_pool_size: int = Field(default=10, description="Connections per process (plus overflow).")
    demo: bool = Field(default=True, description="Create a demo tenant on a new data dir.")
    default_billing: Literal["postpaid", "prepaid"] = Field(
        default="postpaid",
        description="Billing mode of new wallets: postpaid records costs, prepaid needs credits.",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """``10.0.0.0/8,192.168.1.7`` in the environment; a list when given in code."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
        return f"http://{host}:{self.port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
