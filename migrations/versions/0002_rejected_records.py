"""Rejected records: why each invalid `news.raw` record went to the dead-letter topic.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:00:45.836374
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rejected_records",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("kafka_partition", sa.Integer(), nullable=False),
        sa.Column("kafka_offset", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_records")),
    )
    op.create_index(
        "ix_rejected_records_received_at", "rejected_records", ["received_at"], unique=False
    )
    op.create_index(
        "uq_rejected_records_position",
        "rejected_records",
        ["topic", "kafka_partition", "kafka_offset"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_rejected_records_position", table_name="rejected_records")
    op.drop_index("ix_rejected_records_received_at", table_name="rejected_records")
    op.drop_table("rejected_records")
