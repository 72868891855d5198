"""encryption at rest: data keys, encrypted contact and bank fields, natural persons' IDs

The values themselves are encrypted by the platform on its first start after this
migration (crypto/startup.py), because only the platform holds the master key; this
migration marks that work as pending.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# An encrypted value is longer than its plaintext (nonce, tag, base64, key id).
WIDENED = {
    "taxpayers": {"address": 200, "phone": 40, "bank": 200, "account": 60},
    "invoices": {
        f"{side}_{name}": length
        for side in ("seller", "buyer")
        for name, length in (("address", 200), ("phone", 40), ("bank", 200), ("account", 60))
    },
}


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("cipher", sa.String(length=16), nullable=False),
        sa.Column("wrapped", sa.String(length=200), nullable=False),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_keys")),
    )
    op.create_table(
        "encryption_state",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_encryption_state")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("buyer_id_number", sa.Text(), nullable=False, server_default="")
        )
    if op.get_bind().dialect.name == "postgresql":
        # SQLite does not enforce VARCHAR lengths, and rebuilding the invoice table there
        # would only cost time; PostgreSQL needs the wider type.
        for table, columns in WIDENED.items():
            for column, length in columns.items():
                op.alter_column(
                    table, column, type_=sa.Text(), existing_type=sa.String(length=length)
                )
    op.bulk_insert(
        sa.table("encryption_state", sa.column("name"), sa.column("value")),
        [{"name": "plaintext", "value": "pending"}],
    )


def downgrade() -> None:
    raise NotImplementedError("encrypted values cannot be turned back by a migration")
