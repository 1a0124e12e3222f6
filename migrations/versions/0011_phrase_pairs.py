"""Phrase search by adjacent word pairs: a GIN index over the pairs of adjacent words in
`search_vector`, so a phrase reads only the headlines where its words stand side by side.

GIN keeps no word positions, so a phrase of words that are common together but never adjacent
(`"warning profit"`) fetched every headline holding both words to find none (190-330 ms over 30
days of 20 M headlines). Each pair is indexed as one of 2^18 hash buckets, not as text: distinct
pairs are each a key of their own (on 1 M benchmark headlines, 2.2 M pairs: 135 MB as text, 41 MB
as buckets, 26 MB for the words), while a bucket shared by chance only adds a few candidates,
which the words recheck. Built CONCURRENTLY, so writes go on.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_documents_search_pairs"

# hashtextextended is what hash partitioning places rows by, so it stays the same across upgrades.
_CREATE_PAIR = """
create or replace function documents_search_pair(first text, second text)
returns text
language sql
immutable
parallel safe
strict
return to_hex(hashtextextended(first || ' ' || second, 0) & 262143)
"""

_CREATE_PAIRS = """
create or replace function documents_search_pairs(vector tsvector)
returns tsvector
language sql
immutable
parallel safe
strict
return array_to_tsvector(array(
    with words as (select lexeme, unnest(positions) as position from unnest(vector))
    select documents_search_pair(a.lexeme, b.lexeme)
    from words a join words b on b.position = a.position + 1
))
"""


def upgrade() -> None:
    op.execute(_CREATE_PAIR)
    op.execute(_CREATE_PAIRS)
    with op.get_context().autocommit_block():
        # A failed CONCURRENTLY build leaves an invalid index behind: drop it, so a rerun builds.
        op.drop_index(INDEX, "documents", postgresql_concurrently=True, if_exists=True)
        op.create_index(
            INDEX,
            "documents",
            [sa.text("documents_search_pairs(search_vector)")],
            postgresql_using="gin",
            postgresql_concurrently=True,
        )
    # The planner judges a pair condition by statistics on the index expression, which only
    # ANALYZE gathers; a sample, so quick on any size, and it blocks no reads or writes.
    op.execute("analyze documents")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, "documents", postgresql_concurrently=True, if_exists=True)
    op.execute("drop function if exists documents_search_pairs(tsvector)")
    op.execute("drop function if exists documents_search_pair(text, text)")
