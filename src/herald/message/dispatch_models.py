"""The dispatch engine's own table: how much of a channel's caps is taken in each window."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.models import Base, str_enum


class WindowSpan(StrEnum):
    second = "second"
    minute = "minute"
    day = "day"


class ChannelSendWindow(Base):
    """Sends granted to a channel in one window (one second, minute or UTC day).

    Every worker process takes its share with one ``INSERT … ON CONFLICT DO UPDATE`` on this
    row, so a channel's caps hold across processes without any coordinator. Not tenant-scoped
    (only the dispatch engine, as the owner, reads or writes it); old windows are swept.
    """

    __tablename__ = "channel_send_windows"
    __table_args__ = (Index("ix_channel_send_windows_window_start", "window_start"),)

    channel_id: Mapped[UUID] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    span: Mapped[WindowSpan] = mapped_column(str_enum(WindowSpan, 8), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    """Sends granted in this window so far; never above the cap."""
    last_grant: Mapped[int] = mapped_column(default=0)
    """What the latest reservation got, returned by the same statement that took it."""
