"""Alerts: the hysteresis streak of a firing episode, and each rule's event-time cursor.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "alerts",
        sa.Column("clear_windows", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_table(
        "alert_cursors",
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("evaluated_through", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_alert_cursors")),
    )


def downgrade() -> None:
    op.drop_table("alert_cursors")
    op.drop_column("alerts", "clear_windows")
