"""Rollups at hour and day resolution, ingest counters, and an index on documents.ingested_at.

Creates `sentiment_hour`, `sentiment_day` (the minute rollup summed per UTC hour and day),
`ingest_minute`, `ingest_hour`, `ingest_day` (stored documents per model by processing time) and
`rollup_state`, and builds `ix_documents_ingested_at` with CREATE INDEX CONCURRENTLY (the worker
keeps writing meanwhile). The new tables are not filled here: on a database that already holds
rows that could take long, so `finsent db backfill-rollups` does it in short batches, and until it
has finished the queries read the minute rollup and `documents` as before. A database with no rows
yet is marked complete at once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIES = (("sentiment_hour", "hour"), ("sentiment_day", "day"))
INGEST = (("ingest_minute", "minute"), ("ingest_hour", "hour"), ("ingest_day", "day"))


def _series_table(name: str, column: str) -> None:
    op.create_table(
        name,
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(column, sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_negative", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("n_neutral", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("n_positive", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("score_sum", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "dimension in ('all', 'topic', 'ticker')", name=op.f(f"ck_{name}_dimension")
        ),
        sa.PrimaryKeyConstraint("dimension", "key", column, name=op.f(f"pk_{name}")),
    )
    op.create_index(f"ix_{name}_dimension_{column}", name, ["dimension", column], unique=False)


def _ingest_table(name: str, column: str) -> None:
    op.create_table(
        name,
        sa.Column(column, sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("documents", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(column, "model", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    for name, column in SERIES:
        _series_table(name, column)
    for name, column in INGEST:
        _ingest_table(name, column)
    op.create_table(
        "rollup_state",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "completed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_state")),
    )
    # Nothing to backfill on an empty database: the worker fills every rollup from the start.
    op.execute(
        "insert into rollup_state (name) select 'backfill' where not exists "
        "(select from documents) and not exists (select from sentiment_minute)"
    )
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_documents_ingested_at",
            "documents",
            ["ingested_at"],
            unique=False,
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_documents_ingested_at",
            table_name="documents",
            postgresql_concurrently=True,
            if_exists=True,
        )
    op.drop_table("rollup_state")
    for name, _ in reversed(INGEST):
        op.drop_table(name)
    for name, column in reversed(SERIES):
        op.drop_index(f"ix_{name}_dimension_{column}", table_name=name)
        op.drop_table(name)
