"""Every HTTP router of the API, in one explicit list (no registration by import side effect)."""

from __future__ import annotations

from fastapi import APIRouter

from herald import health
from herald.audit import routes as audit_routes
from herald.auth import routes as auth_routes
from herald.budget import routes as budget_routes
from herald.campaign import routes as campaign_routes
from herald.channel import routes as channel_routes
from herald.contact import routes as contact_routes
from herald.cost import routes as cost_routes
from herald.hook import routes as hook_routes
from herald.imports import routes as import_routes
from herald.inbox import routes as inbox_routes
from herald.link import routes as link_routes
from herald.message import routes as message_routes
from herald.secret import routes as secret_routes
from herald.segment import routes as segment_routes
from herald.sms import routes as sms_routes
from herald.template import routes as template_routes
from herald.tenant import routes as tenant_routes
from herald.user import routes as user_routes
from herald.wallet import routes as wallet_routes
from herald.whatsapp import routes as whatsapp_routes

ROUTERS: list[APIRouter] = [
    link_routes.redirects,  # first: the hottest route is matched before all others
    hook_routes.callbacks,  # next: provider callbacks arrive at the rate messages are sent
    hook_routes.router,
    health.router,
    tenant_routes.router,
    auth_routes.api_keys,
    auth_routes.sessions,
    user_routes.members,
    user_routes.invitations,
    user_routes.me,
    audit_routes.router,
    secret_routes.router,
    contact_routes.contacts,
    contact_routes.dnc,
    contact_routes.suppression_rules,
    import_routes.router,
    segment_routes.router,
    template_routes.templates,
    template_routes.library,
    whatsapp_routes.router,
    cost_routes.router,
    link_routes.router,
    sms_routes.router,
    wallet_routes.router,
    budget_routes.router,
    message_routes.router,
    message_routes.events,
    campaign_routes.router,
    channel_routes.channels,
    channel_routes.pools,
    inbox_routes.conversations,
    inbox_routes.inbox,
]
