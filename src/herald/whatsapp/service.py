"""WhatsApp template rules: every write is checked against Meta's rules, edits follow Meta's
edit rules, and status changes go through ``herald.whatsapp.lifecycle.transition``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.errors import Conflict, NotFound, Unprocessable
from herald.kit.models import utcnow
from herald.kit.pagination import PageParams, Slice
from herald.kit.wording import with_article
from herald.whatsapp import templates
from herald.whatsapp.lifecycle import DELETABLE, EDITABLE, MANUAL, transition
from herald.whatsapp.models import (
    ParameterFormat,
    QualityRating,
    TemplateCategory,
    TemplateStatus,
    WhatsAppTemplate,
)
from herald.whatsapp.repository import TemplateRepository
from herald.whatsapp.schemas import (
    ProblemRead,
    RenderRequest,
    RenderResult,
    StatusChange,
    TemplateCreate,
    TemplateFilters,
    TemplateUpdate,
    ValidationResult,
)

EDITED = "edited"
IDENTITY = ("name", "language", "channel_id")
"""Meta knows a submitted template by these: they change only while it is a DRAFT."""
CATEGORY_EDITABLE = frozenset({TemplateStatus.DRAFT, TemplateStatus.REJECTED})
"""Meta refuses to change the category of an approved (or paused) template."""
EDIT_QUOTAS = ((timedelta(days=1), 1), (timedelta(days=30), 10))
"""Meta allows an APPROVED template one edit a day and ten in 30 days (paused and rejected
ones, any number); counted from the status history."""


@dataclass(frozen=True)
class Content:
    """A template's content as it would be after a change, to check before saving."""

    name: str
    language: str
    category: TemplateCategory
    parameter_format: ParameterFormat
    components: list[dict[str, Any]]
    channel_id: UUID | None

    @classmethod
    def of(cls, template: WhatsAppTemplate) -> Content:
        return cls(
            template.name,
            template.language,
            template.category,
            template.parameter_format,
            template.components,
            template.channel_id,
        )

    def changed_by(self, data: TemplateUpdate) -> Content:
        """``null`` leaves a field as it is, except ``channel_id: null``, which detaches the
        template from its channel."""
        sent = data.model_dump(include=data.model_fields_set)
        return replace(
            self, **{k: v for k, v in sent.items() if v is not None or k == "channel_id"}
        )


async def get_template(
    session: AsyncSession, tenant_id: UUID, template_id: UUID, *, for_update: bool = False
) -> WhatsAppTemplate:
    template = await TemplateRepository(session).get(tenant_id, template_id, for_update=for_update)
    if template is None:
        raise NotFound(f"No WhatsApp template {template_id} in this account.")
    return template


async def _check_identity_free(
    session: AsyncSession, tenant_id: UUID, content: Content, template_id: UUID | None = None
) -> None:
    existing = await TemplateRepository(session).find(
        tenant_id, content.channel_id, content.name, content.language
    )
    if existing is not None and existing.id != template_id:
        raise Conflict(
            f"A template named {content.name!r} in {content.language} already exists for this "
            f"channel ({existing.id}); change the name or language, or edit that one.",
            existing_id=str(existing.id),
        )


async def create_template(
    session: AsyncSession, tenant_id: UUID, data: TemplateCreate
) -> WhatsAppTemplate:
    templates.ensure_valid(data)
    await _check_identity_free(session, tenant_id, Content(**data.model_dump()))
    template = WhatsAppTemplate(
        tenant_id=tenant_id,
        **data.model_dump(),
        status=TemplateStatus.DRAFT,
        quality_rating=QualityRating.UNKNOWN,
        status_history=[],
    )
    TemplateRepository(session).add(template)
    await _flush_bound(session, data.channel_id)
    return template


async def _flush_bound(session: AsyncSession, channel_id: UUID | None) -> None:
    """Flush, turning the channel foreign key's refusal (not one of this tenant's channels)
    into a 422 that says so."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if "fk_whatsapp_templates_channel" not in str(exc.orig):
            raise
        raise Unprocessable(
            f"No channel {channel_id} in this account; give one of your WhatsApp channels' ids "
            "or leave channel_id out.",
            errors=[{"field": "channel_id", "message": "unknown channel"}],
        ) from exc


async def list_templates(
    session: AsyncSession, tenant_id: UUID, filters: TemplateFilters, params: PageParams
) -> Slice[WhatsAppTemplate]:
    return await TemplateRepository(session).list(tenant_id, filters, params)


def _check_editable(template: WhatsAppTemplate, before: Content, after: Content) -> None:
    status = template.status
    if status not in EDITABLE:
        raise Conflict(
            f"{with_article(status, capital=True)} template cannot be edited; Meta allows edits of "
            f"{', '.join(sorted(EDITABLE))} templates.",
            status_now=str(status),
        )
    if status is not TemplateStatus.DRAFT:
        fixed = [f for f in IDENTITY if getattr(before, f) != getattr(after, f)]
        if fixed:
            raise Conflict(
                f"{', '.join(fixed)} cannot change once a template is submitted; create a new "
                "template instead.",
            )
    if before.category != after.category and status not in CATEGORY_EDITABLE:
        raise Conflict(
            f"The category of {with_article(status)} template cannot change; create a new "
            "template instead."
        )
    if status is TemplateStatus.APPROVED:
        _check_edit_quota(template, utcnow())


def _check_edit_quota(template: WhatsAppTemplate, now: datetime) -> None:
    edits = [
        datetime.fromisoformat(entry["at"])
        for entry in template.status_history
        if entry.get("from") == TemplateStatus.APPROVED and entry.get("reason") == EDITED
    ]
    for window, limit in EDIT_QUOTAS:
        recent = sorted(at for at in edits if at > now - window)
        if len(recent) >= limit:
            raise Conflict(
                f"Meta allows {limit} edit(s) of an approved template per {window.days} day(s); "
                f"try again after {(recent[0] + window).isoformat(timespec='minutes')}.",
                retry_at=(recent[0] + window).isoformat(),
            )


async def update_template(
    session: AsyncSession, tenant_id: UUID, template_id: UUID, data: TemplateUpdate
) -> WhatsAppTemplate:
    """An edit of a submitted template goes back to Meta's review: it becomes PENDING."""
    template = await get_template(session, tenant_id, template_id, for_update=True)
    before = Content.of(template)
    after = before.changed_by(data)
    if after == before:
        return template
    _check_editable(template, before, after)
    templates.ensure_valid(after)
    if (after.name, after.language, after.channel_id) != (
        before.name,
        before.language,
        before.channel_id,
    ):
        await _check_identity_free(session, tenant_id, after, template.id)
    for field in ("name", "language", "category", "parameter_format", "components", "channel_id"):
        setattr(template, field, getattr(after, field))
    if template.status is not TemplateStatus.DRAFT:
        transition(template, TemplateStatus.PENDING, reason=EDITED, source="api")
    await _flush_bound(session, after.channel_id)
    return template


async def delete_template(session: AsyncSession, tenant_id: UUID, template_id: UUID) -> None:
    template = await get_template(session, tenant_id, template_id, for_update=True)
    if template.status not in DELETABLE:
        raise Conflict(
            f"{with_article(template.status, capital=True)} template exists at Meta: delete it "
            "there (WhatsApp Manager) "
            "and it is marked DELETED when Meta reports it; only "
            f"{', '.join(sorted(DELETABLE))} templates are deleted here.",
            status_now=str(template.status),
        )
    await TemplateRepository(session).delete(template)
    await session.flush()


async def validate_template(
    session: AsyncSession, tenant_id: UUID, template_id: UUID, data: TemplateUpdate
) -> ValidationResult:
    """Dry run: the problems of the stored template with ``data``'s changes, nothing saved."""
    template = await get_template(session, tenant_id, template_id)
    problems = templates.validate(Content.of(template).changed_by(data))
    return ValidationResult(
        valid=not problems,
        problems=[ProblemRead(field=p.field, message=p.message) for p in problems],
    )


async def render_template(
    session: AsyncSession, tenant_id: UUID, template_id: UUID, data: RenderRequest
) -> RenderResult:
    template = await get_template(session, tenant_id, template_id)
    if data.to is None:
        return RenderResult(components=templates.render_components(template, data.values))
    message = templates.message_payload(template, data.to, data.values)
    return RenderResult(components=message["template"].get("components", []), message=message)


async def change_status(
    session: AsyncSession, tenant_id: UUID, template_id: UUID, data: StatusChange
) -> WhatsAppTemplate:
    """A manual move that takes a template out of use (``MANUAL``), through the same table as
    Meta's own reports; review outcomes come only from Meta."""
    template = await get_template(session, tenant_id, template_id, for_update=True)
    if data.status not in MANUAL:
        raise Unprocessable(
            f"{data.status} is Meta's decision and arrives with its webhook or a sync; by hand a "
            f"template can only become {', '.join(sorted(MANUAL))}.",
            errors=[{"field": "status", "message": "not a manual status"}],
        )
    transition(template, data.status, reason=data.reason, source="api")
    await session.flush()
    return template
