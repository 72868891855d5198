"""maintenance windows; refused issue requests by idempotency key

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_zh", sa.String(length=500), nullable=False),
        sa.Column("message_en", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
    )
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.create_index("ix_maintenance_windows_until", ["until"], unique=False)

    op.create_table(
        "issue_rejections",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("taxpayer_id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_rejections")),
    )
    with op.batch_alter_table("issue_rejections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_issue_rejections_key", ["taxpayer_id", "idempotency_key", "id"], unique=False
        )
        batch_op.create_index("ix_issue_rejections_rejected_at", ["rejected_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("issue_rejections", schema=None) as batch_op:
        batch_op.drop_index("ix_issue_rejections_rejected_at")
        batch_op.drop_index("ix_issue_rejections_key")
    op.drop_table("issue_rejections")
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.drop_index("ix_maintenance_windows_until")
    op.drop_table("maintenance_windows")
