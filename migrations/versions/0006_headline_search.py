"""Headline search and keyset paging: a GIN full-text index over headline and tickers, and
(published_at, id) in place of (published_at).

Safe on a populated table: no column is added (a stored tsvector column would rewrite the table
under an exclusive lock); every index is built and dropped CONCURRENTLY, outside a transaction, so
the worker keeps inserting throughout.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 08:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# array_to_string is only STABLE because some element types print by settings; text elements
# print as themselves, so for text[] the whole is IMMUTABLE, as an index expression must be.
# Tickers go through the same English parser as the query, so `BRK.B`, `RDS-A` and `$AAPL` match.
_CREATE_FUNCTION = """
create or replace function documents_search_vector(headline text, tickers text[])
returns tsvector
language sql
immutable
parallel safe
return to_tsvector('english', headline)
    || to_tsvector('english', coalesce(array_to_string(tickers, ' '), ''))
"""


def _create_index(name: str, *columns: str | sa.TextClause, **kw: object) -> None:
    # A failed CONCURRENTLY build leaves an invalid index behind; drop it so a rerun builds anew.
    op.drop_index(name, "documents", postgresql_concurrently=True, if_exists=True)
    op.create_index(name, "documents", list(columns), postgresql_concurrently=True, **kw)


def upgrade() -> None:
    op.execute(_CREATE_FUNCTION)
    with op.get_context().autocommit_block():
        _create_index(
            "ix_documents_search",
            sa.text("documents_search_vector(headline, tickers)"),
            postgresql_using="gin",
        )
        _create_index("ix_documents_published_at_id", "published_at", "id")
        op.drop_index(
            "ix_documents_published_at", "documents", postgresql_concurrently=True, if_exists=True
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        _create_index("ix_documents_published_at", "published_at")
        op.drop_index(
            "ix_documents_published_at_id",
            "documents",
            postgresql_concurrently=True,
            if_exists=True,
        )
        op.drop_index(
            "ix_documents_search", "documents", postgresql_concurrently=True, if_exists=True
        )
    op.execute("drop function if exists documents_search_vector(text, text[])")
