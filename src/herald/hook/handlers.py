"""What the processor does with each kind of parsed event other than receipts (which it
applies itself, set-based, through ``herald.message.receipts``).

An explicit registry: event type → ``async handler(session, channel, events)``. The session
is scoped to the channel's tenant; ``events`` are all the events of that type and channel in
one batch, in arrival order. A type without a handler is recorded as processed with the error
"no handler" and can be reprocessed once one exists (``herald hooks reprocess --failed``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel.models import Channel
from herald.hook.repository import HookRepository
from herald.inbox.service import receive_inbound
from herald.kit.errors import Conflict, Unprocessable
from herald.providers.base import Inbound, TemplateQualityUpdate, TemplateStatusUpdate
from herald.whatsapp.lifecycle import from_meta_status, quality_from_meta, transition
from herald.whatsapp.models import WhatsAppTemplate

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, Channel, Sequence[Any]], Awaitable[None]]


async def _templates_of(
    session: AsyncSession,
    channel: Channel,
    events: Sequence[TemplateStatusUpdate] | Sequence[TemplateQualityUpdate],
) -> list[WhatsAppTemplate]:
    """The channel's templates the events name, by Meta's id or by name and language."""
    return await HookRepository(session).templates(
        channel.tenant_id,
        channel.id,
        [event.provider_template_id for event in events],
        [(event.name, event.language) for event in events],
    )


async def apply_template_updates(
    session: AsyncSession, channel: Channel, events: Sequence[TemplateStatusUpdate]
) -> None:
    """Meta's ``message_template_status_update``: move each named template through the
    status machine, with Meta's reason. A template Herald does not hold, an event that
    changes no status (FLAGGED, LOCKED) or a move the machine refuses is logged and skipped:
    Meta's word is recorded where it fits, never forced."""
    templates = await _templates_of(session, channel, events)
    for event in events:
        template = _named(templates, event)
        try:
            status = from_meta_status(event.event)
        except Unprocessable:
            status = None
        if template is None or status is None:
            log.info("hooks.template_update_skipped", channel_id=str(channel.id), event=event.event)
            continue
        try:
            transition(template, status, reason=event.reason, source="meta_webhook")
        except Conflict as exc:
            log.warning(
                "hooks.template_update_refused", template_id=str(template.id), detail=exc.detail
            )
    await session.flush()


async def apply_quality_updates(
    session: AsyncSession, channel: Channel, events: Sequence[TemplateQualityUpdate]
) -> None:
    """Meta's ``message_template_quality_update``: keep the template's latest quality score,
    which changes no status (Meta pauses a template with its own status update). A template
    Herald does not hold is skipped."""
    templates = await _templates_of(session, channel, events)
    for event in events:
        template = _named(templates, event)
        if template is None:
            log.info("hooks.quality_update_skipped", channel_id=str(channel.id))
            continue
        template.quality_rating = quality_from_meta(event.new_score)
    await session.flush()


def _named(
    templates: Sequence[WhatsAppTemplate], event: TemplateStatusUpdate | TemplateQualityUpdate
) -> WhatsAppTemplate | None:
    """Meta's id first; a template submitted before its id was recorded by name and language,
    preferring the one bound to the channel."""
    for template in templates:
        if event.provider_template_id and template.meta_template_id == event.provider_template_id:
            return template
    named = [t for t in templates if (t.name, t.language) == (event.name, event.language)]
    named.sort(key=lambda t: t.channel_id is None)
    return named[0] if named else None


HANDLERS: dict[type, Handler] = {
    TemplateStatusUpdate: apply_template_updates,
    TemplateQualityUpdate: apply_quality_updates,
    Inbound: receive_inbound,
}
