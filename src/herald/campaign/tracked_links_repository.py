"""The SQL of a launch's tracked short links: which messages of a round still carry the
placeholder, and each one's own link written in, set-based."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, select, text

from herald.kit.repository import Repository
from herald.message.models import Message

_SET_LINKS = text(
    """
    UPDATE messages m
    SET body = replace(m.body, :placeholder, v.url)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:urls AS text[])) AS v(id, url)
    WHERE m.tenant_id = :tenant_id AND m.id = v.id AND m.status = 'queued'
    """
)


class TrackedLinkRepository(Repository):
    async def awaiting_links(
        self, tenant_id: UUID, campaign_id: UUID, round_: int, placeholder: str
    ) -> list[tuple[UUID, UUID]]:
        """(contact, message) of the round's messages whose text still holds the placeholder
        (served by the unique tenant + campaign + round + contact index)."""
        rows = await self.session.execute(
            select(Message.contact_id, Message.id).where(
                Message.tenant_id == tenant_id,
                Message.campaign_id == campaign_id,
                Message.campaign_round == round_,
                Message.contact_id.is_not(None),
                func.strpos(Message.body, placeholder) > 0,
            )
        )
        return [(contact, message) for contact, message in rows if contact is not None]

    async def set_links(
        self, tenant_id: UUID, placeholder: str, links: Sequence[tuple[UUID, str]]
    ) -> None:
        """Each message's own short URL in place of the placeholder, in one statement."""
        await self.session.execute(
            _SET_LINKS,
            {
                "tenant_id": tenant_id,
                "placeholder": placeholder,
                "ids": [message_id for message_id, _ in links],
                "urls": [url for _, url in links],
            },
        )
