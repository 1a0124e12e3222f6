"""A stored search vector: `documents.search_vector`, kept by a trigger, with its own GIN index,
so a search row checked outside the index (a filter, a phrase recheck) reads the vector stored
instead of parsing the headline again.

Safe on a populated table: the column is added without a default (no rewrite) and the index is
built CONCURRENTLY. Rows stored before 0007 keep NULL until `finsent db backfill-rollups` fills
them in short batches; until it has finished (the `rollup_state` row `search_vector`), searches
match on the 0006 expression, whose index stays for now. An empty table is marked complete at once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_documents_search_vector"
# Every writer (the worker's INSERT ... SELECT, COPY, an UPDATE of the text) fills the column the
# same way, whatever version of finsent it runs.
_CREATE_FUNCTION = """
create or replace function documents_fill_search_vector() returns trigger
language plpgsql
as $$
begin
  new.search_vector := documents_search_vector(new.headline, new.tickers);
  return new;
end
$$
"""
_CREATE_TRIGGER = """
create trigger documents_fill_search_vector
before insert or update of headline, tickers on documents
for each row execute function documents_fill_search_vector()
"""


def upgrade() -> None:
    op.add_column("documents", sa.Column("search_vector", TSVECTOR(), nullable=True))
    op.execute(_CREATE_FUNCTION)
    op.execute(_CREATE_TRIGGER)
    # The table is locked until commit, so "empty" here means every row will have its vector.
    op.execute(
        "insert into rollup_state (name) select 'search_vector' "
        "where not exists (select from documents) on conflict (name) do nothing"
    )
    with op.get_context().autocommit_block():
        # A failed CONCURRENTLY build leaves an invalid index; drop it so a rerun builds anew.
        op.drop_index(INDEX, "documents", postgresql_concurrently=True, if_exists=True)
        op.create_index(
            INDEX,
            "documents",
            ["search_vector"],
            postgresql_using="gin",
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, "documents", postgresql_concurrently=True, if_exists=True)
    op.execute("drop trigger if exists documents_fill_search_vector on documents")
    op.execute("drop function if exists documents_fill_search_vector()")
    op.drop_column("documents", "search_vector")
    op.execute("delete from rollup_state where name = 'search_vector'")
