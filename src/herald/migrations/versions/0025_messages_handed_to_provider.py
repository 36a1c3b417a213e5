"""messages: the index of channel and provider id leaves out queued messages without one

Every message a campaign launch writes is queued and has no provider id yet, so each entered
``(channel_id, provider_message_id)`` with nothing to find it by: one index entry in six a
launch writes (docs/decisions.md, "A launch enters fewer indexes"). The
index now holds a message once it has a provider id or leaves ``queued`` (the update that
claims it writes new index entries anyway). Receipts look messages up by provider id, which
implies the predicate, so they read the same index.

The channel-in-use check of migration 0023 read that index for every message of the channel;
it now reads it for the messages it holds, and finds the channel's queued messages among its
tenant's queued ones (``ix_messages_tenant_id_campaign_id_status``): a channel with messages
still cannot be deleted (SQLSTATE 23503, the API's 409).

On a large table build the new index first with ``CREATE INDEX CONCURRENTLY`` under the name
below; this migration then finds it and only drops the old index and renames (instant).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 12:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

INDEX = "ix_messages_channel_id_provider_message_id"
HANDED = "provider_message_id IS NOT NULL OR status <> 'queued'"

CHECK = """
CREATE OR REPLACE FUNCTION messages_keep_their_channel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (
    SELECT 1 FROM gone g
    WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = g.tenant_id)
      AND (EXISTS (SELECT 1 FROM messages m
                   WHERE m.channel_id = g.id
                     AND (m.provider_message_id IS NOT NULL OR m.status <> 'queued'))
           OR EXISTS (SELECT 1 FROM messages m
                      WHERE m.tenant_id = g.tenant_id AND m.status = 'queued'
                        AND m.channel_id = g.id))) THEN
    RAISE EXCEPTION 'channel is still referenced by messages'
        USING ERRCODE = 'foreign_key_violation';
END IF;
RETURN NULL;
END
$$
"""

CHECK_0023 = """
CREATE OR REPLACE FUNCTION messages_keep_their_channel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM gone g JOIN messages m ON m.channel_id = g.id
           WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = g.tenant_id)) THEN
    RAISE EXCEPTION 'channel is still referenced by messages'
        USING ERRCODE = 'foreign_key_violation';
END IF;
RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX}_handed "
        f"ON messages (channel_id, provider_message_id) WHERE {HANDED}"
    )
    op.execute(CHECK)
    op.drop_index(INDEX, table_name="messages")
    op.execute(f"ALTER INDEX {INDEX}_handed RENAME TO {INDEX}")


def downgrade() -> None:
    op.execute(f"CREATE INDEX {INDEX}_whole ON messages (channel_id, provider_message_id)")
    op.execute(CHECK_0023)
    op.drop_index(INDEX, table_name="messages")
    op.execute(f"ALTER INDEX {INDEX}_whole RENAME TO {INDEX}")
