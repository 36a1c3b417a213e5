"""Templates: saving checks the source (syntax, refused constructs, unknown variables), previews
render it in the sandbox for a contact or sample values and count and price the result, and the
library hands out copies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from herald.contact.eligibility import Purpose
from herald.contact.service import read_contact
from herald.kit.errors import Conflict, NotFound, Unprocessable
from herald.kit.models import utcnow
from herald.kit.pagination import PageParams, Slice
from herald.link.service import short_url_for
from herald.settings import Settings
from herald.template.footer import apply_footer, footer_for, has_opt_out_wording
from herald.template.measure import measure_sms, quote_sms
from herald.template.models import LibraryTemplate, Template
from herald.template.render import (
    CONTACT_FIELDS,
    SAMPLE_CONTACT,
    RenderContext,
    TemplateCheck,
    render_template,
    require_known_variables,
    validate_template,
)
from herald.template.repository import LibraryRepository, TemplateRepository
from herald.template.schemas import (
    BodyPreviewRequest,
    LibraryUse,
    Preview,
    PreviewRequest,
    TemplateCreate,
    TemplateRead,
    TemplateUpdate,
)
from herald.tenant.schemas import TenantSettings
from herald.tenant.service import get_tenant, settings_of

DEFAULT_PROVIDER = "simulator"
SAMPLE_DISCOUNT_CODE = "SAVE10"
PREVIEW_LINK_KEY = "PREVIEW"
"""Stands in for the recipient's link token: a preview never creates a real link."""


def check_body(body: str) -> TemplateCheck:
    """422 for anything that stops a body from being saved."""
    check = validate_template(body)
    require_known_variables(check)
    return check


def body_warnings(
    body: str, check: TemplateCheck, purpose: Purpose, settings: TenantSettings
) -> list[str]:
    """What a sender should know before using the template; none of it blocks saving."""
    if purpose is not Purpose.marketing or check.uses_opt_out:
        return []
    if has_opt_out_wording(body, settings):
        return []
    if settings.append_opt_out_footer:
        return [
            "Marketing messages from this template get the opt-out footer appended; "
            "place {{ opt_out }} in the body to choose where it goes."
        ]
    return [
        "This marketing template has no opt-out wording and the account's footer is off: "
        "add 'Reply STOP to opt out' or {{ opt_out }}."
    ]


def to_read(template: Template, warnings: list[str] | None = None) -> TemplateRead:
    read = TemplateRead.model_validate(template)
    read.warnings = warnings or []
    return read


async def get_template(session: AsyncSession, tenant_id: UUID, template_id: UUID) -> Template:
    template = await TemplateRepository(session).get(tenant_id, template_id)
    if template is None:
        raise NotFound(f"No template {template_id} in this account.")
    return template


async def _check_name_free(
    repo: TemplateRepository, tenant_id: UUID, name: str, template_id: UUID | None = None
) -> None:
    existing = await repo.get_by_name(tenant_id, name)
    if existing is not None and existing.id != template_id:
        raise Conflict(
            f"A template named {name!r} already exists ({existing.id}); pick another name.",
            existing_id=str(existing.id),
        )


async def _warnings_for(
    session: AsyncSession, tenant_id: UUID, template: Template, check: TemplateCheck
) -> list[str]:
    settings = settings_of(await get_tenant(session, tenant_id))
    return body_warnings(template.body, check, template.purpose, settings)


async def create_template(
    session: AsyncSession, tenant_id: UUID, data: TemplateCreate
) -> TemplateRead:
    check = check_body(data.body)
    repo = TemplateRepository(session)
    await _check_name_free(repo, tenant_id, data.name)
    template = Template(tenant_id=tenant_id, **data.model_dump(), variables=sorted(check.variables))
    repo.add(template)
    await session.flush()
    return to_read(template, await _warnings_for(session, tenant_id, template, check))


async def update_template(
    session: AsyncSession, tenant_id: UUID, template_id: UUID, data: TemplateUpdate
) -> TemplateRead:
    template = await get_template(session, tenant_id, template_id)
    sent = data.model_dump(exclude_unset=True)
    if "body" in sent and data.body is None:
        raise Unprocessable("'body' cannot be empty; send the new text.")
    check = check_body(data.body or template.body)
    if data.name is not None and data.name != template.name:
        await _check_name_free(TemplateRepository(session), tenant_id, data.name, template.id)
    for field, value in sent.items():
        if field in ("name", "purpose") and value is None:
            continue
        setattr(template, field, [] if field == "tags" and value is None else value)
    template.variables = sorted(check.variables)
    await session.flush()
    return to_read(template, await _warnings_for(session, tenant_id, template, check))


async def delete_template(session: AsyncSession, tenant_id: UUID, template_id: UUID) -> None:
    template = await get_template(session, tenant_id, template_id)
    await TemplateRepository(session).delete(template)
    await session.flush()


async def list_templates(
    session: AsyncSession,
    tenant_id: UUID,
    params: PageParams,
    *,
    name: str | None = None,
    category: str | None = None,
    tag: str | None = None,
) -> Slice[Template]:
    return await TemplateRepository(session).list(
        tenant_id, params, name=name, category=category, tag=tag
    )


async def record_use(
    session: AsyncSession, tenant_id: UUID, template_id: UUID, count: int = 1
) -> None:
    """Count ``count`` messages composed from a template (the campaign launch calls this once
    per campaign with its audience size, not once per message)."""
    if not await TemplateRepository(session).record_use(tenant_id, template_id, count, utcnow()):
        raise NotFound(f"No template {template_id} in this account.")


def message_context(
    recipient: RenderContext,
    tenant_name: str,
    settings: TenantSettings,
    language: str,
    *,
    link: str | None = None,
    discount_code: str | None = None,
) -> RenderContext:
    """A recipient's values (``RenderContext.for_contact``) completed with the tenant's and the
    message's: what the send pipeline renders each message with. ``language`` is the message's
    (the template's, else the contact's, else the tenant's default) and picks the footer."""
    return replace(
        recipient,
        business_name=settings.business_name or tenant_name,
        link=link,
        discount_code=discount_code,
        opt_out=footer_for(settings, language),
    )


def _sample_context(sample: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Contact fields and ``custom.<name>`` values of a sample; built-in values fill the rest."""
    custom = {k.removeprefix("custom."): v for k, v in sample.items() if k.startswith("custom.")}
    fields = {k: v for k, v in sample.items() if not k.startswith("custom.")}
    unknown = sorted(set(fields) - set(CONTACT_FIELDS))
    if unknown:
        raise Unprocessable(
            f"Unknown sample fields: {', '.join(unknown)}. Use contact fields "
            f"({', '.join(CONTACT_FIELDS)}) or custom.<name>.",
            errors=[{"field": f"sample.{name}", "message": "unknown field"} for name in unknown],
        )
    return {**SAMPLE_CONTACT, **fields}, custom


def _country(phone: Any, fallback: str) -> str | None:
    """The destination's country: the number's region (its calling code's main region when
    the number itself is not a valid one), ``None`` for a non-geographic number (priced by
    ``*``), the account's country when there is no number at all."""
    if not phone:
        return fallback
    try:
        number = phonenumbers.parse(str(phone), None)
    except phonenumbers.NumberParseException:
        return fallback
    region = phonenumbers.region_code_for_number(
        number
    ) or phonenumbers.region_code_for_country_code(number.country_code or 0)
    return region if region and region.isalpha() and region != "ZZ" else None


def _empty_values(check: TemplateCheck, context: RenderContext) -> list[str]:
    empty = [
        f"{name} is empty here, so it renders as nothing."
        for name in sorted(check.variables & set(CONTACT_FIELDS))
        if context.contact.get(name) in (None, "", [])
    ]
    empty += [
        f"custom.{name} is not set here, so it renders as nothing."
        for name in check.custom_fields
        if context.custom.get(name) in (None, "")
    ]
    return empty


async def _recipient(
    session: AsyncSession, tenant_id: UUID, data: PreviewRequest
) -> tuple[RenderContext, str | None]:
    """The recipient's values (a contact's, or a sample's) and language."""
    if data.contact_id is not None:
        contact = await read_contact(session, tenant_id, data.contact_id)
        return RenderContext.for_contact(contact), contact.language
    fields, custom = _sample_context(data.sample or {})
    language = fields.get("language")
    return RenderContext(contact=fields, custom=custom), str(language) if language else None


async def preview_template(
    session: AsyncSession,
    tenant_id: UUID,
    template_id: UUID,
    data: PreviewRequest,
    app_settings: Settings,
) -> Preview:
    """Render the template as one recipient would receive it, counted and priced."""
    template = await get_template(session, tenant_id, template_id)
    return await _preview(
        session, tenant_id, template.body, template.purpose, template.language, data, app_settings
    )


async def preview_body(
    session: AsyncSession, tenant_id: UUID, data: BodyPreviewRequest, app_settings: Settings
) -> Preview:
    """The same for a body not saved yet (a composer's live preview); checked as a save is."""
    check_body(data.body)
    return await _preview(
        session, tenant_id, data.body, data.purpose, data.language, data, app_settings
    )


async def _preview(
    session: AsyncSession,
    tenant_id: UUID,
    body: str,
    purpose: Purpose,
    body_language: str | None,
    data: PreviewRequest,
    app_settings: Settings,
) -> Preview:
    tenant = await get_tenant(session, tenant_id)
    settings = settings_of(tenant)
    recipient, recipient_language = await _recipient(session, tenant_id, data)
    language = body_language or recipient_language or settings.default_language
    context = message_context(
        recipient,
        tenant.name,
        settings,
        language,
        link=short_url_for(app_settings, settings, PREVIEW_LINK_KEY),
        discount_code=data.discount_code or SAMPLE_DISCOUNT_CODE,
    )
    rendered = render_template(body, context)
    text, footer_appended = apply_footer(rendered, purpose, settings, language)
    measure = measure_sms(text, smart=settings.smart_encoding)
    country = _country(context.contact.get("phone"), tenant.country)
    cost, reason = await quote_sms(
        session, tenant_id, data.provider or DEFAULT_PROVIDER, country, measure.segments
    )
    return Preview(
        text=measure.text,
        encoding=measure.encoding,
        segments=measure.segments,
        characters=measure.characters,
        cost=cost,
        cost_unavailable_reason=reason,
        footer_appended=footer_appended,
        warnings=_empty_values(validate_template(body), context),
    )


async def get_library_template(session: AsyncSession, entry_id: UUID) -> LibraryTemplate:
    entry = await LibraryRepository(session).get(entry_id)
    if entry is None:
        raise NotFound(f"No library template {entry_id}.")
    return entry


async def list_library(
    session: AsyncSession,
    params: PageParams,
    *,
    category: str | None = None,
    tag: str | None = None,
) -> Slice[LibraryTemplate]:
    return await LibraryRepository(session).list(params, category=category, tag=tag)


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base (n)`` with the smallest free n ≥ 2."""
    if base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


async def use_library_template(
    session: AsyncSession, tenant_id: UUID, entry_id: UUID, data: LibraryUse
) -> TemplateRead:
    """Copy a library entry into the tenant's templates and count the use."""
    entry = await get_library_template(session, entry_id)
    repo = TemplateRepository(session)
    if data.name is not None:
        await _check_name_free(repo, tenant_id, data.name)
        name = data.name
    else:
        name = unique_name(entry.name, set(await repo.names_like(tenant_id, entry.name)))
    check = check_body(entry.body)
    template = Template(
        tenant_id=tenant_id,
        name=name,
        body=entry.body,
        purpose=entry.purpose,
        language=entry.language,
        category=entry.category,
        tags=list(entry.tags),
        variables=sorted(check.variables),
        library_template_id=entry.id,
    )
    repo.add(template)
    await session.flush()
    await LibraryRepository(session).count_use(tenant_id, entry.id, utcnow())
    return to_read(template, await _warnings_for(session, tenant_id, template, check))
