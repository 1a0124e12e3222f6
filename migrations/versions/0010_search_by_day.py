"""Headline search keyed by day: the text index becomes a GIN index over (day of `published_at`,
`search_vector`), so a search reads only the index entries of the days its range covers.

A GIN index over the words alone lists each word's matches in all history, and a search of one
day read that whole list before filtering by time (85 ms for a word in 1.5% of 20 M headlines).
With the day as a second key (`btree_gin` lets a GIN index hold an integer), PostgreSQL
intersects the day's list with the words' lists and jumps past the older entries. Safe on a
populated table: the index is built and the old one dropped CONCURRENTLY, so writes go on.

`btree_gin` ships with PostgreSQL (contrib) and is a trusted extension, so the database owner may
create it; downgrade leaves it installed, as other schemas may use it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 07:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_DAY = "ix_documents_search_by_day"
WORDS_ONLY = "ix_documents_search_vector"  # 0007's

# The UTC day number: an epoch does not depend on the time zone, so this is IMMUTABLE as an index
# expression must be, though date_part on a timestamptz is only STABLE in general.
_CREATE_FUNCTION = """
create or replace function documents_search_day(published_at timestamptz)
returns integer
language sql
immutable
parallel safe
return floor(date_part('epoch', published_at) / 86400)::integer
"""


def _create_index(name: str, *columns: str | sa.TextClause, **kw: object) -> None:
    # A failed CONCURRENTLY build leaves an invalid index behind; drop it so a rerun builds anew.
    op.drop_index(name, "documents", postgresql_concurrently=True, if_exists=True)
    op.create_index(name, "documents", list(columns), postgresql_concurrently=True, **kw)


def upgrade() -> None:
    op.execute("create extension if not exists btree_gin")
    op.execute(_CREATE_FUNCTION)
    with op.get_context().autocommit_block():
        _create_index(
            BY_DAY,
            sa.text("documents_search_day(published_at)"),
            "search_vector",
            postgresql_using="gin",
        )
        op.drop_index(WORDS_ONLY, "documents", postgresql_concurrently=True, if_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        _create_index(WORDS_ONLY, "search_vector", postgresql_using="gin")
        op.drop_index(BY_DAY, "documents", postgresql_concurrently=True, if_exists=True)
    op.execute("drop function if exists documents_search_day(timestamptz)")
