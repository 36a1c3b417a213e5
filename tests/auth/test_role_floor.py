"""Each role-gated route refuses the role just below its minimum (403), and every route's
minimum is the one written here: lowering one (contact writes from manager to agent, say)
fails the table test, and the role-below test then proves the new floor holds."""

from __future__ import annotations

import inspect
import re
from typing import Any
from uuid import uuid4

import httpx
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from herald.kit.context import Role
from herald.routers import ROUTERS
from tests.conftest import TenantFixture

MINIMUM: dict[tuple[str, str], Role] = {
    ("GET", "/v1/tenant"): Role.viewer,
    ("PATCH", "/v1/tenant"): Role.admin,
    ("GET", "/v1/api-keys"): Role.admin,
    ("POST", "/v1/api-keys"): Role.admin,
    ("DELETE", "/v1/api-keys/{key_id}"): Role.admin,
    ("GET", "/v1/members"): Role.viewer,
    ("PATCH", "/v1/members/{user_id}"): Role.admin,
    ("DELETE", "/v1/members/{user_id}"): Role.admin,
    ("POST", "/v1/invitations"): Role.admin,
    ("GET", "/v1/invitations"): Role.admin,
    ("DELETE", "/v1/invitations/{invitation_id}"): Role.admin,
    ("GET", "/v1/audit-log"): Role.admin,
    ("GET", "/v1/secrets"): Role.admin,
    ("GET", "/v1/secrets/{name}"): Role.admin,
    ("PUT", "/v1/secrets/{name}"): Role.admin,
    ("DELETE", "/v1/secrets/{name}"): Role.admin,
    ("GET", "/v1/contacts"): Role.viewer,
    ("POST", "/v1/contacts"): Role.manager,
    ("POST", "/v1/contacts/bulk/tags"): Role.manager,
    ("GET", "/v1/contacts/{contact_id}"): Role.viewer,
    ("PATCH", "/v1/contacts/{contact_id}"): Role.manager,
    ("DELETE", "/v1/contacts/{contact_id}"): Role.manager,
    ("POST", "/v1/contacts/{contact_id}/consent"): Role.manager,
    ("GET", "/v1/contacts/{contact_id}/consent"): Role.viewer,
    ("GET", "/v1/contacts/{contact_id}/export"): Role.viewer,
    ("GET", "/v1/dnc"): Role.viewer,
    ("POST", "/v1/dnc"): Role.manager,
    ("POST", "/v1/dnc/bulk"): Role.manager,
    ("POST", "/v1/dnc/bulk-remove"): Role.manager,
    ("DELETE", "/v1/dnc/{phone}"): Role.manager,
    ("GET", "/v1/suppression-rules"): Role.viewer,
    ("POST", "/v1/suppression-rules"): Role.manager,
    ("GET", "/v1/suppression-rules/{rule_id}"): Role.viewer,
    ("PATCH", "/v1/suppression-rules/{rule_id}"): Role.manager,
    ("DELETE", "/v1/suppression-rules/{rule_id}"): Role.manager,
    ("POST", "/v1/imports"): Role.manager,
    ("GET", "/v1/imports"): Role.viewer,
    ("GET", "/v1/imports/{batch_id}"): Role.viewer,
    ("GET", "/v1/imports/{batch_id}/rejected.csv"): Role.viewer,
    ("GET", "/v1/segments"): Role.viewer,
    ("POST", "/v1/segments"): Role.manager,
    ("POST", "/v1/segments/preview"): Role.viewer,
    ("GET", "/v1/segments/{segment_id}"): Role.viewer,
    ("PATCH", "/v1/segments/{segment_id}"): Role.manager,
    ("DELETE", "/v1/segments/{segment_id}"): Role.manager,
    ("GET", "/v1/segments/{segment_id}/preview"): Role.viewer,
    ("POST", "/v1/segments/{segment_id}/refresh"): Role.manager,
    ("GET", "/v1/segments/{segment_id}/contacts"): Role.viewer,
    ("GET", "/v1/templates"): Role.viewer,
    ("POST", "/v1/templates"): Role.manager,
    ("POST", "/v1/templates/preview"): Role.viewer,
    ("GET", "/v1/templates/{template_id}"): Role.viewer,
    ("PATCH", "/v1/templates/{template_id}"): Role.manager,
    ("DELETE", "/v1/templates/{template_id}"): Role.manager,
    ("POST", "/v1/templates/{template_id}/preview"): Role.viewer,
    ("GET", "/v1/template-library"): Role.viewer,
    ("GET", "/v1/template-library/{entry_id}"): Role.viewer,
    ("POST", "/v1/template-library/{entry_id}/use"): Role.manager,
    ("GET", "/v1/whatsapp-templates"): Role.viewer,
    ("POST", "/v1/whatsapp-templates"): Role.manager,
    ("GET", "/v1/whatsapp-templates/{template_id}"): Role.viewer,
    ("PATCH", "/v1/whatsapp-templates/{template_id}"): Role.manager,
    ("DELETE", "/v1/whatsapp-templates/{template_id}"): Role.manager,
    ("POST", "/v1/whatsapp-templates/{template_id}/validate"): Role.viewer,
    ("POST", "/v1/whatsapp-templates/{template_id}/render"): Role.viewer,
    ("POST", "/v1/whatsapp-templates/{template_id}/status"): Role.admin,
    ("GET", "/v1/costs"): Role.viewer,
    ("POST", "/v1/costs"): Role.admin,
    ("POST", "/v1/costs/quote"): Role.viewer,
    ("POST", "/v1/costs/quote-audience"): Role.viewer,
    ("GET", "/v1/costs/{price_id}"): Role.viewer,
    ("PATCH", "/v1/costs/{price_id}"): Role.admin,
    ("DELETE", "/v1/costs/{price_id}"): Role.admin,
    ("POST", "/v1/links"): Role.manager,
    ("GET", "/v1/links"): Role.viewer,
    ("GET", "/v1/links/{link_id}"): Role.viewer,
    ("POST", "/v1/tools/sms-inspect"): Role.viewer,
    ("GET", "/v1/wallet"): Role.admin,
    ("PATCH", "/v1/wallet"): Role.owner,
    ("GET", "/v1/wallet/transactions"): Role.admin,
    ("POST", "/v1/wallet/adjustments"): Role.owner,
    ("POST", "/v1/messages"): Role.agent,
    ("GET", "/v1/messages"): Role.viewer,
    ("GET", "/v1/messages/{message_id}"): Role.viewer,
    ("GET", "/v1/events"): Role.viewer,
    ("GET", "/v1/channels"): Role.viewer,
    ("POST", "/v1/channels"): Role.admin,
    ("GET", "/v1/channels/{channel_id}"): Role.viewer,
    ("PATCH", "/v1/channels/{channel_id}"): Role.admin,
    ("DELETE", "/v1/channels/{channel_id}"): Role.admin,
    ("POST", "/v1/channels/{channel_id}/pause"): Role.manager,
    ("POST", "/v1/channels/{channel_id}/resume"): Role.manager,
    ("POST", "/v1/channels/{channel_id}/test"): Role.admin,
    ("POST", "/v1/channels/{channel_id}/submit-template"): Role.manager,
    ("POST", "/v1/channels/{channel_id}/sync-templates"): Role.manager,
    ("GET", "/v1/sender-pools"): Role.viewer,
    ("POST", "/v1/sender-pools"): Role.manager,
    ("GET", "/v1/sender-pools/{pool_id}"): Role.viewer,
    ("PATCH", "/v1/sender-pools/{pool_id}"): Role.manager,
    ("DELETE", "/v1/sender-pools/{pool_id}"): Role.manager,
    ("GET", "/v1/hooks/stats"): Role.viewer,
    ("GET", "/v1/budget"): Role.viewer,
    ("PUT", "/v1/budget"): Role.admin,
    ("POST", "/v1/campaigns"): Role.manager,
    ("GET", "/v1/campaigns"): Role.viewer,
    ("GET", "/v1/campaigns/{campaign_id}"): Role.viewer,
    ("PATCH", "/v1/campaigns/{campaign_id}"): Role.manager,
    ("DELETE", "/v1/campaigns/{campaign_id}"): Role.manager,
    ("POST", "/v1/campaigns/{campaign_id}/send"): Role.manager,
    ("POST", "/v1/campaigns/{campaign_id}/schedule"): Role.manager,
    ("POST", "/v1/campaigns/{campaign_id}/pause"): Role.manager,
    ("POST", "/v1/campaigns/{campaign_id}/resume"): Role.manager,
    ("POST", "/v1/campaigns/{campaign_id}/cancel"): Role.manager,
    ("POST", "/v1/campaigns/{campaign_id}/duplicate"): Role.manager,
    ("GET", "/v1/campaigns/{campaign_id}/preflight"): Role.viewer,
    ("GET", "/v1/campaigns/{campaign_id}/report"): Role.viewer,
    ("GET", "/v1/campaigns/{campaign_id}/messages.csv"): Role.manager,
    ("GET", "/v1/conversations"): Role.viewer,
    ("GET", "/v1/conversations/{conversation_id}"): Role.viewer,
    ("PATCH", "/v1/conversations/{conversation_id}"): Role.agent,
    ("POST", "/v1/conversations/{conversation_id}/read"): Role.agent,
    ("GET", "/v1/conversations/{conversation_id}/messages"): Role.viewer,
    ("GET", "/v1/conversations/{conversation_id}/messages/{message_id}/media"): Role.viewer,
    ("POST", "/v1/conversations/{conversation_id}/replies"): Role.agent,
    ("POST", "/v1/conversations/{conversation_id}/notes"): Role.agent,
    ("GET", "/v1/conversations/{conversation_id}/notes"): Role.viewer,
    ("GET", "/v1/inbox/canned-replies"): Role.viewer,
    ("POST", "/v1/inbox/canned-replies"): Role.agent,
    ("GET", "/v1/inbox/canned-replies/{reply_id}"): Role.viewer,
    ("PATCH", "/v1/inbox/canned-replies/{reply_id}"): Role.agent,
    ("DELETE", "/v1/inbox/canned-replies/{reply_id}"): Role.agent,
    ("GET", "/v1/inbox/keywords"): Role.viewer,
    ("PUT", "/v1/inbox/keywords"): Role.admin,
}
"""(method, path) → the least role that may call it. Reads are for viewers; contact, segment,
template and import writes for managers; sending for agents; keys, members, secrets, channels
and prices for admins; billing for owners."""

BELOW = {
    Role.agent: Role.viewer,
    Role.manager: Role.agent,
    Role.admin: Role.manager,
    Role.owner: Role.admin,
}
PATH_VALUES = {"name": "probe", "phone": "+14155550100"}


def _minimum(dependant: Dependant) -> Role | None:
    """The role ``herald.auth.dependencies.require`` checks for, if the route depends on it."""
    call = dependant.call
    if getattr(call, "__qualname__", "").startswith("require.<locals>.check"):
        found: Role = inspect.getclosurevars(call).nonlocals["minimum"]
        return found
    for sub in dependant.dependencies:
        if (role := _minimum(sub)) is not None:
            return role
    return None


def gated_routes() -> dict[tuple[str, str], Role]:
    found: dict[tuple[str, str], Role] = {}
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and (role := _minimum(route.dependant)) is not None:
                for method in route.methods:
                    found[(method, route.path)] = role
    return found


def test_every_gated_route_has_its_written_minimum() -> None:
    assert gated_routes() == MINIMUM


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), str(uuid4())), path)


async def _call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    extra: dict[str, Any] = {}
    if path == "/v1/imports" and method == "POST":
        extra["files"] = {"file": ("a.csv", b"phone\n+14155550100\n", "text/csv")}
    elif method in {"POST", "PUT", "PATCH"}:
        extra["json"] = {}
    return await client.request(method, _url(path), headers=headers, **extra)


async def test_the_role_just_below_each_minimum_is_refused(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    keys = {role: await tenant.key_for(role) for role in BELOW.values()}
    wrong = []
    for (method, path), minimum in sorted(MINIMUM.items()):
        if minimum is Role.viewer:
            continue  # below a viewer there is no role: the 401 tests cover no key at all
        response = await _call(client, method, path, keys[BELOW[minimum]])
        if response.status_code != 403 or minimum.value not in response.text:
            wrong.append((method, path, response.status_code))
    assert wrong == []


async def test_erasing_needs_an_admin_even_though_deleting_needs_a_manager(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    made = await client.post("/v1/contacts", json={"phone": "+14155550191"}, headers=tenant.headers)
    url = f"/v1/contacts/{made.json()['id']}"
    manager = await tenant.key_for(Role.manager)
    refused = await client.delete(url, params={"erase": "true"}, headers=manager)
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    erased = await client.delete(url, params={"erase": "true"}, headers=tenant.headers)
    assert erased.status_code == 204
