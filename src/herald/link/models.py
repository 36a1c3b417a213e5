"""Short links and their click counters."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, IdMixin, TenantScopedMixin, TimestampMixin

TOKEN_COLUMN_LENGTH = 32
UTM_LENGTH = 200
DISCOUNT_CODE_LENGTH = 100


class ShortLink(IdMixin, TenantScopedMixin, TimestampMixin, Base):
    """One link, usually one per recipient of a campaign message.

    ``token`` is unique across tenants: the redirect has no tenant context and finds a link by
    its token alone. The counters are updated in place by every click (not indexed, so the
    update stays a heap-only tuple update).
    """

    __tablename__ = "short_links"
    __audited__ = False
    """Made by the send path, one per message and link, and counted by clicks: its own log."""
    __table_args__ = (
        Index("ix_short_links_tenant_id_campaign_id", "tenant_id", "campaign_id"),
        Index("ix_short_links_contact_id", "contact_id"),
    )

    token: Mapped[str] = mapped_column(String(TOKEN_COLUMN_LENGTH), unique=True)
    target_url: Mapped[str] = mapped_column(Text)
    redirect_url: Mapped[str] = mapped_column(Text)
    """The target with UTM parameters merged in, or wrapped in the tenant's discount URL."""
    campaign_id: Mapped[UUID | None]
    """No foreign key yet: campaigns come later."""
    contact_id: Mapped[UUID | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    message_id: Mapped[UUID | None]
    utm_source: Mapped[str | None] = mapped_column(String(UTM_LENGTH))
    utm_medium: Mapped[str | None] = mapped_column(String(UTM_LENGTH))
    utm_campaign: Mapped[str | None] = mapped_column(String(UTM_LENGTH))
    utm_content: Mapped[str | None] = mapped_column(String(UTM_LENGTH))
    utm_term: Mapped[str | None] = mapped_column(String(UTM_LENGTH))
    discount_code: Mapped[str | None] = mapped_column(String(DISCOUNT_CODE_LENGTH))
    expires_at: Mapped[datetime]
    clicks: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    human_clicks: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    first_clicked_at: Mapped[datetime | None]
    """The first human click (previews fetched at delivery are not one)."""
    last_clicked_at: Mapped[datetime | None]
