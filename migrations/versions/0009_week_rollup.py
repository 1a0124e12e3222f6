"""A week rollup (`sentiment_week`), so the busiest keys over 30 or 90 days sum a few rows per key.

Where the coarse rollups are complete (the `rollup_state` row `backfill`), the new table is filled
from `sentiment_day` under a SHARE lock on it: readers go on, a worker's batch waits for this one
statement (a day row per key and day: seconds for a year of 5,000 tickers). Elsewhere `finsent db
backfill-rollups` fills it with the hour and day rows. Stop the workers of earlier versions first:
they do not write week rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `monitor.storage.resolution.ORIGIN`, copied: a migration must not change when that code does.
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    op.create_table(
        "sentiment_week",
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("week", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_negative", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("n_neutral", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("n_positive", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("score_sum", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "dimension in ('all', 'topic', 'ticker')", name=op.f("ck_sentiment_week_dimension")
        ),
        sa.PrimaryKeyConstraint("dimension", "key", "week", name=op.f("pk_sentiment_week")),
    )
    op.create_index(
        "ix_sentiment_week_dimension_week", "sentiment_week", ["dimension", "week"], unique=False
    )
    bind = op.get_bind()
    if bind.scalar(sa.text("select count(*) from rollup_state where name = 'backfill'")):
        op.execute("lock table sentiment_day in share mode")
        bind.execute(
            sa.text(
                "insert into sentiment_week (dimension, key, week, n_negative, n_neutral, "
                "n_positive, score_sum) select dimension, key, date_bin('7 days', day, :origin), "
                "sum(n_negative), sum(n_neutral), sum(n_positive), sum(score_sum) "
                "from sentiment_day group by 1, 2, 3"
            ),
            {"origin": ORIGIN},
        )


def downgrade() -> None:
    op.drop_index("ix_sentiment_week_dimension_week", table_name="sentiment_week")
    op.drop_table("sentiment_week")
