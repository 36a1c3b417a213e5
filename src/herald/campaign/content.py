"""What each variant of a campaign says, composed once per launch (or preflight).

A body that reads only the message's own values (business name, link, discount code,
opt-out) is rendered, footed and counted once for everybody; a body that reads a contact's
fields is rendered per recipient after the launch's insert, in bounded batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.campaign.models import Campaign, CampaignVariant
from herald.contact.eligibility import Purpose
from herald.contact.models import ChannelKind
from herald.cost.pricing import Category
from herald.kit.errors import NotFound, Unprocessable
from herald.link.service import tracked_link_placeholder
from herald.message.service import CATEGORY_OF
from herald.sms.encoding import inspect
from herald.template.footer import finalize_sms, has_opt_out_wording
from herald.template.render import SAMPLE_CONTACT, RenderContext, compile_template
from herald.template.service import check_body, get_template, message_context
from herald.tenant.models import Tenant
from herald.tenant.schemas import TenantSettings
from herald.tenant.service import settings_of
from herald.whatsapp.models import TemplateStatus, WhatsAppTemplate
from herald.whatsapp.repository import TemplateRepository
from herald.whatsapp.templates import TemplateValues, render_components

MESSAGE_VALUES = frozenset({"business_name", "link", "discount_code", "opt_out"})
"""Names whose value is the same for every recipient of a campaign."""


@dataclass(frozen=True)
class Composed:
    """One variant as the launch writes it; ``source`` is set when each recipient needs their
    own rendering (then ``body`` is a sample's, for counting in previews)."""

    variant_id: UUID
    label: str
    low: int
    high: int
    body: str | None
    template: dict[str, Any] | None
    encoding: str | None
    segments: int | None
    category: Category | None
    source: str | None = None
    language: str | None = None
    saved_template_id: UUID | None = None
    whatsapp_status: TemplateStatus | None = None
    opt_out_missing: bool = False

    @property
    def quantity(self) -> int:
        return self.segments or 1


class _Head(NamedTuple):
    variant_id: UUID
    label: str
    low: int
    high: int


@dataclass(frozen=True)
class Composer:
    """Renders a campaign's texts with the tenant's settings."""

    tenant: Tenant
    campaign: Campaign

    @property
    def settings(self) -> TenantSettings:
        return settings_of(self.tenant)

    @property
    def tracked_link(self) -> str | None:
        """What ``{{ link }}`` reads when each SMS recipient gets a tracked short link (the
        tenant has a short-link domain and the campaign a target): a placeholder of the
        links' length, replaced by each message's own link once they are made."""
        if self.campaign.kind is not ChannelKind.sms or not self.campaign.target_url:
            return None
        return tracked_link_placeholder(self.settings)

    def context(self, recipient: RenderContext, language: str | None) -> RenderContext:
        return message_context(
            recipient,
            self.tenant.name,
            self.settings,
            language or self.settings.default_language,
            link=self.tracked_link or self.campaign.target_url,
            discount_code=self.campaign.discount_code,
        )

    def finish(self, text: str, language: str | None) -> tuple[str, str | None, int | None]:
        """The text as sent (footer for marketing SMS), its encoding and segments."""
        if self.campaign.kind is ChannelKind.whatsapp:
            return text, None, None
        footed = finalize_sms(text, self.campaign.purpose, self.settings, language)
        sms = inspect(footed, smart=self.settings.smart_encoding)
        return sms.text, sms.encoding, sms.segments

    def render(self, source: str, recipient: RenderContext, language: str | None) -> str:
        return compile_template(source).render(self.context(recipient, language))


async def compose(
    session: AsyncSession, composer: Composer, variants: list[CampaignVariant]
) -> list[Composed]:
    """Every variant, with its share of the hash range ``[0, 100)`` (422 on bad content)."""
    composed, low = [], 0
    for variant in sorted(variants, key=lambda v: v.position):
        high = low + variant.share_percent
        composed.append(await _one(session, composer, variant, low, high))
        low = high
    return composed


async def _one(
    session: AsyncSession, composer: Composer, variant: CampaignVariant, low: int, high: int
) -> Composed:
    head = _Head(variant.id, variant.label, low, high)
    if variant.whatsapp_template_id is not None:
        return await _whatsapp(session, composer, variant, head)
    source, language, saved = variant.body, None, None
    if variant.template_id is not None:
        template = await get_template(session, composer.tenant.id, variant.template_id)
        source, language, saved = template.body, template.language, template.id
    if source is None:
        raise Unprocessable(f"Variant {variant.label} has no content; give it a 'body'.")
    if composer.campaign.kind is ChannelKind.whatsapp and (
        composer.campaign.purpose is Purpose.marketing
    ):
        raise Unprocessable(
            "WhatsApp marketing outside the 24-hour window needs an approved template: give "
            f"variant {variant.label} a 'whatsapp_template_id' instead of a text."
        )
    check = check_body(source)
    per_contact = bool(check.variables - MESSAGE_VALUES) or bool(check.custom_fields)
    recipient = RenderContext.for_contact(_Sample()) if per_contact else RenderContext()
    body, encoding, segments = composer.finish(
        composer.render(source, recipient, language), language
    )
    category = Category.service if composer.campaign.kind is ChannelKind.whatsapp else None
    return Composed(
        *head,
        body=body,
        template=None,
        encoding=encoding,
        segments=segments,
        category=category,
        source=source if per_contact else None,
        language=language,
        saved_template_id=saved,
        opt_out_missing=_no_opt_out(composer, body),
    )


def _no_opt_out(composer: Composer, body: str) -> bool:
    marketing_sms = composer.campaign.purpose is Purpose.marketing and (
        composer.campaign.kind is ChannelKind.sms
    )
    return marketing_sms and not has_opt_out_wording(body, composer.settings)


async def _whatsapp(
    session: AsyncSession, composer: Composer, variant: CampaignVariant, head: _Head
) -> Composed:
    assert variant.whatsapp_template_id is not None
    found = await TemplateRepository(session).get(composer.tenant.id, variant.whatsapp_template_id)
    if found is None:
        raise NotFound(
            f"No WhatsApp template {variant.whatsapp_template_id}; list them with "
            "GET /v1/whatsapp/templates."
        )
    parameters = list(variant.params.get("parameters", []))
    return Composed(
        *head,
        body=None,
        template=_template_json(found, parameters),
        encoding=None,
        segments=None,
        category=CATEGORY_OF[found.category],
        whatsapp_status=found.status,
    )


def _template_json(found: WhatsAppTemplate, parameters: list[str]) -> dict[str, Any]:
    components = render_components(found, TemplateValues(body=parameters))
    return {
        "name": found.name,
        "language": found.language,
        "parameters": parameters,
        "components": components,
    }


class _Sample:
    """The preview contact: counts a per-recipient body the way previews do."""

    def __getattr__(self, name: str) -> Any:
        if name == "phone_e164":
            return SAMPLE_CONTACT["phone"]
        if name == "custom_fields":
            return {}
        return SAMPLE_CONTACT.get(name)
