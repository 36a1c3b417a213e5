"""Message templates at Meta: submit one to a WhatsApp Business Account and list them all.

Not the hot path: an admin's click or an hourly sync. Every call has the channel's timeout;
Meta's refusals become ``MetaTemplateError`` with Meta's own message, for the caller to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from herald.providers.http import Answer, call
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig

PAGE_SIZE = 100
MAX_PAGES = 100
"""At most 10,000 templates a sync: far above Meta's per-account limit."""


class MetaTemplateError(Exception):
    """Meta refused or could not be reached; ``str()`` says why, in Meta's words."""


@dataclass(frozen=True, slots=True)
class Submitted:
    meta_template_id: str
    status: str


async def submit(
    http: aiohttp.ClientSession, config: WhatsAppCloudConfig, payload: dict[str, Any]
) -> Submitted:
    """``POST /{waba_id}/message_templates``: Meta's id for the new template and its status."""
    answer = await _call(http, config, "POST", json=payload)
    body = answer.json()
    if answer.status == 200 and isinstance(body, dict) and body.get("id"):
        return Submitted(str(body["id"]), str(body.get("status") or "PENDING"))
    raise MetaTemplateError(_reason(answer, body))


async def list_all(
    http: aiohttp.ClientSession, config: WhatsAppCloudConfig
) -> list[dict[str, Any]]:
    """Every template of the account, following Meta's cursor paging."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        params = {"limit": str(PAGE_SIZE), **({"after": after} if after else {})}
        answer = await _call(http, config, "GET", params=params)
        body = answer.json()
        if answer.status != 200 or not isinstance(body, dict):
            raise MetaTemplateError(_reason(answer, body))
        page = [item for item in body.get("data") or [] if isinstance(item, dict)]
        found.extend(page)
        after = _next_cursor(body, len(page))
        if after is None:
            break
    return found


def _next_cursor(body: dict[str, Any], count: int) -> str | None:
    """Meta sends ``paging.next`` only when another page exists; a server that omits it (the
    simulator) is read on while pages come back full."""
    paging = body.get("paging") or {}
    after = (paging.get("cursors") or {}).get("after")
    if not after or count == 0:
        return None
    return str(after) if paging.get("next") or count >= PAGE_SIZE else None


async def _call(
    http: aiohttp.ClientSession, config: WhatsAppCloudConfig, method: str, **kwargs: Any
) -> Answer:
    if not config.waba_id:
        raise MetaTemplateError("the channel has no waba_id: set config.waba_id first")
    answer = await call(
        http,
        method,
        config.graph_url(f"{config.waba_id}/message_templates"),
        within=config.timeout(),
        headers={"Authorization": f"Bearer {config.access_token.get_secret_value()}"},
        **kwargs,
    )
    if not isinstance(answer, Answer):
        raise MetaTemplateError(f"Meta could not be reached: {answer.reason}")
    return answer


def _reason(answer: Answer, body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        detail = error.get("error_user_msg") or error.get("message") or "no message"
        return f"Meta refused (HTTP {answer.status}, code {error.get('code')}): {detail}"
    return f"Meta answered HTTP {answer.status} without an error body"
