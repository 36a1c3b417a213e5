"""contacts: contacts, consent events, do-not-contact, suppression rules

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:22:11.744310
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from herald.migrations.rls import enable_tenant_rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("phone_e164", sa.String(length=16), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column(
            "gender",
            sa.Enum(
                "female", "male", "other", "unknown", name="gender", native_enum=False, length=20
            ),
            nullable=True,
        ),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "custom_fields",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column(
            "sms_status",
            sa.Enum(
                "opted_in",
                "implied",
                "unknown",
                "opted_out",
                name="consentstatus",
                native_enum=False,
                length=20,
            ),
            server_default="unknown",
            nullable=False,
        ),
        sa.Column("sms_source", sa.String(length=200), nullable=True),
        sa.Column("sms_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "whatsapp_status",
            sa.Enum(
                "opted_in",
                "implied",
                "unknown",
                "opted_out",
                name="consentstatus",
                native_enum=False,
                length=20,
            ),
            server_default="unknown",
            nullable=False,
        ),
        sa.Column("whatsapp_source", sa.String(length=200), nullable=True),
        sa.Column("whatsapp_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("blocked_reason", sa.String(length=500), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unread_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("import_batch_id", sa.Uuid(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_contacts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint(
            "tenant_id", "phone_e164", name=op.f("uq_contacts_tenant_id_phone_e164")
        ),
    )
    op.create_index(
        op.f("ix_contacts_import_batch_id"), "contacts", ["import_batch_id"], unique=False
    )
    op.create_index("ix_contacts_tags", "contacts", ["tags"], unique=False, postgresql_using="gin")
    op.create_index(op.f("ix_contacts_tenant_id"), "contacts", ["tenant_id"], unique=False)
    op.create_index(
        "ix_contacts_tenant_id_birth_date", "contacts", ["tenant_id", "birth_date"], unique=False
    )
    op.create_index(
        "ix_contacts_tenant_id_created_at", "contacts", ["tenant_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_contacts_tenant_id_sms_status", "contacts", ["tenant_id", "sms_status"], unique=False
    )
    op.create_index(
        "ix_contacts_tenant_id_whatsapp_status",
        "contacts",
        ["tenant_id", "whatsapp_status"],
        unique=False,
    )
    op.create_index(
        "uq_contacts_tenant_id_email",
        "contacts",
        ["tenant_id", sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.create_table(
        "do_not_contact",
        sa.Column("phone_e164", sa.String(length=16), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "stop",
                "complaint",
                "manual",
                "erased",
                name="dncreason",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_do_not_contact_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_do_not_contact")),
        sa.UniqueConstraint(
            "tenant_id", "phone_hash", name=op.f("uq_do_not_contact_tenant_id_phone_hash")
        ),
    )
    op.create_index(
        op.f("ix_do_not_contact_tenant_id"), "do_not_contact", ["tenant_id"], unique=False
    )
    op.create_table(
        "suppression_rules",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("window_days", sa.Integer(), server_default="90", nullable=False),
        sa.Column(
            "channel",
            sa.Enum("sms", "whatsapp", name="channel", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_suppression_rules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppression_rules")),
    )
    op.create_index(
        "ix_suppression_rules_active",
        "suppression_rules",
        ["tenant_id"],
        unique=False,
        postgresql_where=sa.text("is_active"),
    )
    op.create_index(
        op.f("ix_suppression_rules_tenant_id"), "suppression_rules", ["tenant_id"], unique=False
    )
    op.create_table(
        "consent_events",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("sms", "whatsapp", name="channel", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "opted_in",
                "implied",
                "unknown",
                "opted_out",
                name="consentstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "previous_status",
            sa.Enum(
                "opted_in",
                "implied",
                "unknown",
                "opted_out",
                name="consentstatus",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "method",
            sa.Enum(
                "api",
                "import",
                "keyword",
                "form",
                "integration",
                "admin",
                "erasure",
                name="consentmethod",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("wording", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_consent_events_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_consent_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    op.create_index(
        "ix_consent_events_contact_id_occurred_at",
        "consent_events",
        ["contact_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_consent_events_tenant_id"), "consent_events", ["tenant_id"], unique=False
    )
    for table in TABLES:
        enable_tenant_rls(table)


TABLES = ("contacts", "consent_events", "do_not_contact", "suppression_rules")


def downgrade() -> None:
    op.drop_index(op.f("ix_consent_events_tenant_id"), table_name="consent_events")
    op.drop_index("ix_consent_events_contact_id_occurred_at", table_name="consent_events")
    op.drop_table("consent_events")
    op.drop_index(op.f("ix_suppression_rules_tenant_id"), table_name="suppression_rules")
    op.drop_index(
        "ix_suppression_rules_active",
        table_name="suppression_rules",
        postgresql_where=sa.text("is_active"),
    )
    op.drop_table("suppression_rules")
    op.drop_index(op.f("ix_do_not_contact_tenant_id"), table_name="do_not_contact")
    op.drop_table("do_not_contact")
    op.drop_index(
        "uq_contacts_tenant_id_email",
        table_name="contacts",
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.drop_index("ix_contacts_tenant_id_whatsapp_status", table_name="contacts")
    op.drop_index("ix_contacts_tenant_id_sms_status", table_name="contacts")
    op.drop_index("ix_contacts_tenant_id_created_at", table_name="contacts")
    op.drop_index("ix_contacts_tenant_id_birth_date", table_name="contacts")
    op.drop_index(op.f("ix_contacts_tenant_id"), table_name="contacts")
    op.drop_index("ix_contacts_tags", table_name="contacts", postgresql_using="gin")
    op.drop_index(op.f("ix_contacts_import_batch_id"), table_name="contacts")
    op.drop_table("contacts")
