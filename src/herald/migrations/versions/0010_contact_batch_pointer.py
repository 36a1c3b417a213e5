"""contacts: the import batch becomes a plain pointer (no foreign key, no index)

Every contact an import creates paid a foreign-key check on ``import_batch_id`` (a row lock
on the batch, taken once per contact) and an entry in an index that only served that
check's ``ON DELETE SET NULL``: together a fifth of the database's work in a large import.
Import batches are never deleted on their own (only with their tenant, which takes its
contacts too), so the pointer cannot dangle; ``tenant_id`` keeps its foreign key.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 04:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("fk_contacts_import_batch_id_import_batches", "contacts", type_="foreignkey")
    op.drop_index("ix_contacts_import_batch_id", table_name="contacts")


def downgrade() -> None:
    op.create_index("ix_contacts_import_batch_id", "contacts", ["import_batch_id"])
    op.create_foreign_key(
        "fk_contacts_import_batch_id_import_batches",
        "contacts",
        "import_batches",
        ["import_batch_id"],
        ["id"],
        ondelete="SET NULL",
    )
