"""templates: tenant templates, the shared template library (seeded) and its usage

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from herald.kit.ids import new_id
from herald.migrations.rls import APP_ROLE, enable_tenant_rls, grant_app_role

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LIBRARY: list[dict[str, object]] = [
    {
        "slug": "welcome",
        "name": "Welcome",
        "category": "welcome",
        "tags": ["welcome", "onboarding", "discount"],
        "purpose": "marketing",
        "body": (
            'Hi {{ first_name | default("there") }}, welcome to {{ business_name }}! '
            "Here's 10% off your first order with code {{ discount_code }}: {{ link }}"
        ),
    },
    {
        "slug": "birthday",
        "name": "Birthday treat",
        "category": "birthday",
        "tags": ["birthday", "discount", "loyalty"],
        "purpose": "marketing",
        "body": (
            'Happy birthday, {{ first_name | default("there") }}! {{ business_name }} has a '
            "gift for you: use {{ discount_code }} for 15% off this week. {{ link }}"
        ),
    },
    {
        "slug": "abandoned-cart",
        "name": "Abandoned cart",
        "category": "abandoned_cart",
        "tags": ["cart", "recovery", "ecommerce"],
        "purpose": "marketing",
        "body": (
            '{{ first_name | default("Hi there") }}, you left something in your cart at '
            "{{ business_name }}. It's saved for you, but stock is limited: {{ link }}"
        ),
    },
    {
        "slug": "abandoned-cart-discount",
        "name": "Abandoned cart with discount",
        "category": "abandoned_cart",
        "tags": ["cart", "recovery", "discount", "ecommerce"],
        "purpose": "marketing",
        "body": (
            'Still thinking it over, {{ first_name | default("there") }}? Complete your '
            "{{ business_name }} order today with {{ discount_code }} for free shipping: {{ link }}"
        ),
    },
    {
        "slug": "order-confirmation",
        "name": "Order confirmation",
        "category": "order_confirmation",
        "tags": ["order", "transactional", "ecommerce"],
        "purpose": "transactional",
        "body": (
            'Thanks for your order, {{ first_name | default("there") }}! {{ business_name }} '
            "has received it and will text you when it ships. Details: {{ link }}"
        ),
    },
    {
        "slug": "shipping-update",
        "name": "Shipping update",
        "category": "shipping_update",
        "tags": ["shipping", "transactional", "ecommerce"],
        "purpose": "transactional",
        "body": (
            'Good news, {{ first_name | default("there") }}: your {{ business_name }} order is '
            "on its way. Track it here: {{ link }}"
        ),
    },
    {
        "slug": "review-request",
        "name": "Review request",
        "category": "review_request",
        "tags": ["review", "feedback", "post-purchase"],
        "purpose": "marketing",
        "body": (
            'Hi {{ first_name | default("there") }}, how are you finding your purchase from '
            "{{ business_name }}? A quick review helps us a lot: {{ link }}"
        ),
    },
    {
        "slug": "win-back",
        "name": "We miss you",
        "category": "win_back",
        "tags": ["win-back", "retention", "discount"],
        "purpose": "marketing",
        "body": (
            'We miss you, {{ first_name | default("there") }}! Come back to {{ business_name }} '
            "and take 20% off with code {{ discount_code }}. {{ link }}"
        ),
    },
    {
        "slug": "sale",
        "name": "Sale announcement",
        "category": "sale",
        "tags": ["sale", "promotion", "discount"],
        "purpose": "marketing",
        "body": (
            "{{ business_name }} sale starts now! Up to 30% off sitewide, "
            'this weekend only. {{ first_name | default("Shop") }}, use {{ discount_code }}: '
            "{{ link }}"
        ),
    },
    {
        "slug": "back-in-stock",
        "name": "Back in stock",
        "category": "back_in_stock",
        "tags": ["inventory", "ecommerce"],
        "purpose": "marketing",
        "body": (
            '{{ first_name | default("Hi") }}, the item you wanted is back in stock at '
            "{{ business_name }}. Grab it before it sells out again: {{ link }}"
        ),
    },
    {
        "slug": "appointment-reminder",
        "name": "Appointment reminder",
        "category": "reminder",
        "tags": ["appointment", "reminder", "transactional"],
        "purpose": "transactional",
        "body": (
            'Hi {{ first_name | default("there") }}, a reminder of your appointment with '
            "{{ business_name }}. Need to change it? {{ link }}"
        ),
    },
]


def _timestamps() -> list[sa.Column[object]]:
    return [
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
    ]


def _library() -> sa.Table:
    table = op.create_table(
        "template_library",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=16), server_default="en", nullable=False),
        sa.Column("use_count", sa.Integer(), server_default="0", nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_library")),
        sa.UniqueConstraint("slug", name=op.f("uq_template_library_slug")),
    )
    op.create_index("ix_template_library_category_name", "template_library", ["category", "name"])
    assert table is not None
    return table


def _templates() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), server_default="sms", nullable=False),
        sa.Column("purpose", sa.String(length=20), server_default="marketing", nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("variables", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("library_template_id", sa.Uuid(), nullable=True),
        sa.Column("use_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("char_length(body) <= 5000", name=op.f("ck_templates_body_length")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["library_template_id"],
            ["template_library.id"],
            name=op.f("fk_templates_library_template_id_template_library"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_templates_tenant_id_name")),
    )
    op.create_index(op.f("ix_templates_tenant_id"), "templates", ["tenant_id"])


def _usages() -> None:
    op.create_table(
        "template_usages",
        sa.Column("library_template_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("used_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "last_used_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["library_template_id"],
            ["template_library.id"],
            name=op.f("fk_template_usages_library_template_id_template_library"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_template_usages_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "library_template_id", "tenant_id", name=op.f("pk_template_usages")
        ),
    )
    op.create_index(op.f("ix_template_usages_tenant_id"), "template_usages", ["tenant_id"])


def _use_counter() -> None:
    """The app role reads the library but cannot write it; this function is its one narrow
    write: add one to an entry's global count. SECURITY DEFINER runs it as the owner, with a
    fixed search_path so no caller can shadow the table."""
    op.execute(
        """
        CREATE FUNCTION count_library_template_use(entry uuid) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
          UPDATE template_library SET use_count = use_count + 1 WHERE id = entry
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION count_library_template_use(uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION count_library_template_use(uuid) TO {APP_ROLE}")


def upgrade() -> None:
    library = _library()
    _templates()
    _usages()
    grant_app_role("template_library", "SELECT")
    enable_tenant_rls("templates")
    enable_tenant_rls("template_usages")
    _use_counter()
    op.bulk_insert(library, [{"id": new_id(), "language": "en", **row} for row in LIBRARY])


def downgrade() -> None:
    op.execute("DROP FUNCTION count_library_template_use(uuid)")
    op.drop_table("template_usages")
    op.drop_table("templates")
    op.drop_table("template_library")
