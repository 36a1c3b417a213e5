"""messages: no per-row foreign-key checks, what they did on delete kept by statement triggers;
the idempotency key indexed only where there is one; one index for a contact's messages and
for one message per campaign round and contact

A campaign launch writes up to a million ``messages`` rows in one statement, and each foreign
key on the table ran a lookup (and a row lock) per inserted row: 39% of the launch's time
(docs/decisions.md, "A launch without per-row foreign-key checks"). The launch statement takes
its ids from the rows it reads and locks the campaign and its channels once, so the checks
proved nothing it did not already know. What the keys did when the other side is deleted is
kept, once per statement:

- a deleted contact's messages lose their ``contact_id`` (was ``ON DELETE SET NULL``);
- a channel with messages cannot be deleted (was ``RESTRICT``), unless its tenant goes too;
- a deleted tenant's messages go with it (was ``ON DELETE CASCADE``).

Campaigns are deleted only as drafts, which have no messages (the service refuses the rest).

The unique key of a campaign's messages leads with the contact, (tenant, contact, campaign,
round): it still decides ``ON CONFLICT`` (the columns are the same) and now also serves every
lookup of a contact's messages, so ``ix_messages_tenant_id_contact_id`` goes.

On a large table: dropping constraints and indexes is instant; each new index is built before
what it replaces is dropped. In production build them first with ``CREATE UNIQUE INDEX
CONCURRENTLY`` under the names below (this migration then finds them and only swaps); see
docs/decisions.md.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("fk_messages_tenant_id_tenants", ["tenant_id"], "tenants", ["id"], "CASCADE"),
    ("fk_messages_channel_id_channels", ["channel_id"], "channels", ["id"], "RESTRICT"),
    ("fk_messages_contact_id_contacts", ["contact_id"], "contacts", ["id"], "SET NULL"),
    ("fk_messages_campaign", ["tenant_id", "campaign_id"], "campaigns", ["tenant_id", "id"], None),
)

TRIGGERS = (
    (
        "contacts",
        "messages_unlink_deleted_contacts",
        """
        UPDATE messages m SET contact_id = NULL
        FROM gone g
        WHERE m.tenant_id = g.tenant_id AND m.contact_id = g.id;
        """,
    ),
    (
        "channels",
        "messages_keep_their_channel",
        """
        IF EXISTS (SELECT 1 FROM gone g JOIN messages m ON m.channel_id = g.id
                   WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = g.tenant_id)) THEN
            RAISE EXCEPTION 'channel is still referenced by messages'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        """,
    ),
    (
        "tenants",
        "messages_leave_with_their_tenant",
        """
        DELETE FROM messages m USING gone g WHERE m.tenant_id = g.id;
        """,
    ),
)

IDEMPOTENCY_INDEX = "uq_messages_tenant_id_idempotency_key"
ROUND_KEY = "uq_messages_tenant_id_contact_id_campaign_id_campaign_round"
OLD_ROUND_KEY = "uq_messages_tenant_id_campaign_id_campaign_round_contact_id"
CONTACT_INDEX = "ix_messages_tenant_id_contact_id"


def upgrade() -> None:
    for name, *_ in FOREIGN_KEYS:
        op.drop_constraint(name, "messages", type_="foreignkey")
    for table, function, body in TRIGGERS:
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{body}\nRETURN NULL;\nEND\n$$"
        )
        op.execute(
            f"CREATE TRIGGER {function} AFTER DELETE ON {table} "
            f"REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    op.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {IDEMPOTENCY_INDEX}_partial "
        "ON messages (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL"
    )
    op.drop_constraint(IDEMPOTENCY_INDEX, "messages", type_="unique")
    op.execute(f"ALTER INDEX {IDEMPOTENCY_INDEX}_partial RENAME TO {IDEMPOTENCY_INDEX}")
    op.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {ROUND_KEY} "
        "ON messages (tenant_id, contact_id, campaign_id, campaign_round)"
    )
    op.drop_constraint(OLD_ROUND_KEY, "messages", type_="unique")
    op.execute(f"ALTER TABLE messages ADD CONSTRAINT {ROUND_KEY} UNIQUE USING INDEX {ROUND_KEY}")
    op.drop_index(CONTACT_INDEX, table_name="messages")


def downgrade() -> None:
    op.create_index(CONTACT_INDEX, "messages", ["tenant_id", "contact_id"])
    op.drop_constraint(ROUND_KEY, "messages", type_="unique")
    op.create_unique_constraint(
        OLD_ROUND_KEY, "messages", ["tenant_id", "campaign_id", "campaign_round", "contact_id"]
    )
    op.drop_index(IDEMPOTENCY_INDEX, table_name="messages")
    op.create_unique_constraint(IDEMPOTENCY_INDEX, "messages", ["tenant_id", "idempotency_key"])
    for table, function, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER {function} ON {table}")
        op.execute(f"DROP FUNCTION {function}()")
    for name, columns, target, target_columns, on_delete in FOREIGN_KEYS:
        op.create_foreign_key(name, "messages", target, columns, target_columns, ondelete=on_delete)
