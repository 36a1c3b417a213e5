"""channel_send_windows: a channel's caps taken per second, minute and day, across workers

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.migrations.rls import grant_app_role

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_send_windows",
        sa.Column(
            "channel_id",
            sa.Uuid(),
            sa.ForeignKey("channels.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("span", sa.String(8), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_grant", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_channel_send_windows_window_start", "channel_send_windows", ["window_start"]
    )
    grant_app_role("channel_send_windows")


def downgrade() -> None:
    op.drop_table("channel_send_windows")
