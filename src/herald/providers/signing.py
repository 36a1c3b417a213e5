"""Webhook helpers shared by the adapters: header lookup, form parsing, constant-time checks."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl

SIM_SIGNATURE_HEADER = "X-Sim-Signature"
"""Herald's own scheme (simulator, and the simulator's Mitto callbacks): ``sha256=<hex>`` of
HMAC-SHA256 over the raw body, keyed with the channel's signing secret."""


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever the case the server framework kept (Starlette's headers
    answer ``get`` in any case at once; a plain mapping is searched)."""
    found = headers.get(name)
    if found is not None:
        return found
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def form_pairs(raw: bytes | str) -> list[tuple[str, str]]:
    """``application/x-www-form-urlencoded`` pairs, blanks kept (they are signed too)."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    return parse_qsl(text, keep_blank_values=True)


def is_form(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_sim(secret: str, body: bytes) -> str:
    """The ``X-Sim-Signature`` value for ``body``."""
    return f"sha256={hmac_sha256_hex(secret, body)}"


def verify_sim(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    given = header(headers, SIM_SIGNATURE_HEADER)
    return given is not None and hmac.compare_digest(
        given.encode(), sign_sim(secret, body).encode()
    )
