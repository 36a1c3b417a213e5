"""contacts: the do-not-contact hash of the number, stored with the contact

The do-not-contact list keys on a salted hash of the number (erased people's entries must
keep working without the number). Every audience read hashed each contact's number to look
it up: at a million contacts about a fifth of a campaign launch's reading. The hash is now a
stored generated column, computed by PostgreSQL when the number is written (an import or an
edit) and cleared with it on erasure (the number becomes NULL).

``tenant_id::text || phone_e164`` as bytes is what ``herald.contact.dnc_hash.phone_hash``
hashes: a UUID's text and an E.164 number are ASCII, so the bytes are the same in any
server encoding (``convert_to`` is not immutable, so a generated column cannot call it).

Adding the column rewrites ``contacts`` once.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

PHONE_HASH = "encode(sha256(CAST(CAST(tenant_id AS text) || phone_e164 AS bytea)), 'hex')"


def upgrade() -> None:
    op.add_column(
        "contacts",
        sa.Column("phone_hash", sa.String(64), sa.Computed(PHONE_HASH, persisted=True)),
    )


def downgrade() -> None:
    op.drop_column("contacts", "phone_hash")
