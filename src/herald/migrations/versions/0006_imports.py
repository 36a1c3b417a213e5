"""imports: import batches, their stored files and rejected rows; contacts.import_batch_id FK

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-22 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from herald.migrations.rls import enable_tenant_rls

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("import_batches", "import_file_parts", "import_issues")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def _batch_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["batch_id"],
        ["import_batches.id"],
        name=op.f(f"fk_{table}_batch_id_import_batches"),
        ondelete="CASCADE",
    )


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "processing",
                "completed",
                "failed",
                name="importstatus",
                native_enum=False,
                length=20,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column(
            "options", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        _counter("processed_rows"),
        _counter("created_count"),
        _counter("updated_count"),
        _counter("skipped_count"),
        _counter("rejected_count"),
        _counter("consent_kept_count"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        _tenant_fk("import_batches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_index(
        op.f("ix_import_batches_tenant_id"), "import_batches", ["tenant_id"], unique=False
    )
    op.create_index(
        "ix_import_batches_tenant_id_file_sha256",
        "import_batches",
        ["tenant_id", "file_sha256"],
        unique=False,
    )
    op.create_table(
        "import_file_parts",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _batch_fk("import_file_parts"),
        _tenant_fk("import_file_parts"),
        sa.PrimaryKeyConstraint("batch_id", "seq", name=op.f("pk_import_file_parts")),
    )
    op.create_index(
        op.f("ix_import_file_parts_tenant_id"), "import_file_parts", ["tenant_id"], unique=False
    )
    op.create_table(
        "import_issues",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("rejected", "skipped", name="issuekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _batch_fk("import_issues"),
        _tenant_fk("import_issues"),
        sa.PrimaryKeyConstraint("batch_id", "line", name=op.f("pk_import_issues")),
    )
    op.create_index(
        op.f("ix_import_issues_tenant_id"), "import_issues", ["tenant_id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_contacts_import_batch_id_import_batches"),
        "contacts",
        "import_batches",
        ["import_batch_id"],
        ["id"],
        ondelete="SET NULL",
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_contacts_import_batch_id_import_batches"), "contacts", type_="foreignkey"
    )
    op.drop_index(op.f("ix_import_issues_tenant_id"), table_name="import_issues")
    op.drop_table("import_issues")
    op.drop_index(op.f("ix_import_file_parts_tenant_id"), table_name="import_file_parts")
    op.drop_table("import_file_parts")
    op.drop_index("ix_import_batches_tenant_id_file_sha256", table_name="import_batches")
    op.drop_index(op.f("ix_import_batches_tenant_id"), table_name="import_batches")
    op.drop_table("import_batches")
