"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_sequences",
        sa.Column("prefix", sa.String(length=5), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_number_sequences")),
    )
    op.create_table(
        "outbox_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("taxpayer_id", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_events_event_id")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_events_status_next", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_events_subject"), ["subject"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_events_taxpayer_id"), ["taxpayer_id"], unique=False
        )

    op.create_table(
        "taxpayers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tax_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("credit_limit", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("bank", sa.String(length=200), nullable=False),
        sa.Column("account", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxpayers")),
        sa.UniqueConstraint("tax_id", name=op.f("uq_taxpayers_tax_id")),
    )
    op.create_table(
        "verification_counts",
        sa.Column("invoice_number", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("invoice_number", "day", name=op.f("pk_verification_counts")),
    )
    op.create_table(
        "certification_periods",
        sa.Column(
            "taxpayer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["taxpayer_id"],
            ["taxpayers.id"],
            name=op.f("fk_certification_periods_taxpayer_id_taxpayers"),
        ),
        sa.PrimaryKeyConstraint("taxpayer_id", "period", name=op.f("pk_certification_periods")),
    )
    op.create_table(
        "credit_usage",
        sa.Column(
            "taxpayer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("month", sa.String(length=6), nullable=False),
        sa.Column("used_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["taxpayer_id"], ["taxpayers.id"], name=op.f("fk_credit_usage_taxpayer_id_taxpayers")
        ),
        sa.PrimaryKeyConstraint("taxpayer_id", "month", name=op.f("pk_credit_usage")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column(
            "taxpayer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("invoice_number", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["taxpayer_id"],
            ["taxpayers.id"],
            name=op.f("fk_idempotency_keys_taxpayer_id_taxpayers"),
        ),
        sa.PrimaryKeyConstraint("taxpayer_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "invoices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("medium", sa.String(length=10), nullable=False),
        sa.Column("is_red", sa.Boolean(), nullable=False),
        sa.Column("red_of", sa.String(length=20), nullable=True),
        sa.Column("red_form_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "seller_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("seller_tax_id", sa.String(length=20), nullable=False),
        sa.Column("seller_name", sa.String(length=200), nullable=False),
        sa.Column("seller_address", sa.String(length=200), nullable=False),
        sa.Column("seller_phone", sa.String(length=40), nullable=False),
        sa.Column("seller_bank", sa.String(length=200), nullable=False),
        sa.Column("seller_account", sa.String(length=60), nullable=False),
        sa.Column("buyer_tax_id", sa.String(length=20), nullable=True),
        sa.Column("buyer_name", sa.String(length=200), nullable=False),
        sa.Column("buyer_address", sa.String(length=200), nullable=False),
        sa.Column("buyer_phone", sa.String(length=40), nullable=False),
        sa.Column("buyer_bank", sa.String(length=200), nullable=False),
        sa.Column("buyer_account", sa.String(length=60), nullable=False),
        sa.Column("buyer_email", sa.String(length=254), nullable=False),
        sa.Column("buyer_natural_person", sa.Boolean(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("total_tax", sa.BigInteger(), nullable=False),
        sa.Column("total_with_tax", sa.BigInteger(), nullable=False),
        sa.Column("total_in_words", sa.String(length=80), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("remarks", sa.String(length=500), nullable=False),
        sa.Column("drawer", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=False),
        sa.Column("reversed_tax", sa.BigInteger(), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cert_period", sa.String(length=6), nullable=True),
        sa.Column("cert_purpose", sa.String(length=12), nullable=True),
        sa.Column("cert_reason", sa.String(length=2), nullable=True),
        sa.Column("cert_reason_text", sa.String(length=200), nullable=True),
        sa.Column("certified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["taxpayers.id"], name=op.f("fk_invoices_seller_id_taxpayers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoices_buyer_date", ["buyer_tax_id", "issue_date", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invoices_red_of"), ["red_of"], unique=False)
        batch_op.create_index(
            "ix_invoices_seller_date", ["seller_id", "issue_date", "id"], unique=False
        )

    op.create_table(
        "red_letter_forms",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("blue_number", sa.String(length=20), nullable=False),
        sa.Column(
            "seller_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("buyer_tax_id", sa.String(length=20), nullable=True),
        sa.Column("initiator", sa.String(length=8), nullable=False),
        sa.Column(
            "initiator_taxpayer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("lines_json", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("red_invoice_number", sa.String(length=20), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiator_taxpayer_id"],
            ["taxpayers.id"],
            name=op.f("fk_red_letter_forms_initiator_taxpayer_id_taxpayers"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["taxpayers.id"], name=op.f("fk_red_letter_forms_seller_id_taxpayers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_red_letter_forms")),
    )
    with op.batch_alter_table("red_letter_forms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_red_letter_forms_blue_number"), ["blue_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_red_letter_forms_buyer_tax_id"), ["buyer_tax_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_red_letter_forms_seller_id"), ["seller_id"], unique=False
        )

    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "taxpayer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["taxpayer_id"], ["taxpayers.id"], name=op.f("fk_users_taxpayer_id_taxpayers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "invoice_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("blue_line_no", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("tax_code", sa.String(length=19), nullable=False),
        sa.Column("short_name", sa.String(length=60), nullable=False),
        sa.Column("spec", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=True),
        sa.Column("unit_price", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.String(length=12), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint(
            "invoice_id", "line_no", name=op.f("uq_invoice_lines_invoice_id_line_no")
        ),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))

    op.drop_table("invoice_lines")
    op.drop_table("users")
    with op.batch_alter_table("red_letter_forms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_red_letter_forms_seller_id"))
        batch_op.drop_index(batch_op.f("ix_red_letter_forms_buyer_tax_id"))
        batch_op.drop_index(batch_op.f("ix_red_letter_forms_blue_number"))

    op.drop_table("red_letter_forms")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_seller_date")
        batch_op.drop_index(batch_op.f("ix_invoices_red_of"))
        batch_op.drop_index("ix_invoices_buyer_date")

    op.drop_table("invoices")
    op.drop_table("idempotency_keys")
    op.drop_table("credit_usage")
    op.drop_table("certification_periods")
    op.drop_table("verification_counts")
    op.drop_table("taxpayers")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_taxpayer_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_events_subject"))
        batch_op.drop_index("ix_outbox_events_status_next")

    op.drop_table("outbox_events")
    op.drop_table("number_sequences")
