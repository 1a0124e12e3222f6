"""Alerts explain themselves: the expected count, the reason in words, and whether it was sent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("expected", sa.Float(), nullable=True))
    op.add_column("alerts", sa.Column("explanation", sa.Text(), nullable=True))
    op.add_column(
        "alerts",
        sa.Column("notified", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("alerts", "notified")
    op.drop_column("alerts", "explanation")
    op.drop_column("alerts", "expected")
