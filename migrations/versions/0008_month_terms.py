"""Month terms: the stored search vector also holds the UTC month of publication ('@2026-11'), so
the text index itself can leave out the matches of other months (see
`monitor.storage.month_terms`, which writes the same terms into queries).

Safe on a populated table: only a function, the trigger and (when every row already has its
vector) an index drop CONCURRENTLY. Rows stored before 0008 keep their vectors, which answer every
search as before, until `finsent db backfill-rollups` rewrites them in short batches (the
`rollup_state` row `search_months`). The 0006 expression index goes once every row has a stored
vector: here if that is already so, else when the backfill finishes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPRESSION_INDEX = "ix_documents_search"  # 0006's
# `at time zone 'UTC'` makes the month the UTC one whatever the session's time zone.
_CREATE_FUNCTION = """
create or replace function documents_stored_search_vector(
  headline text, tickers text[], published_at timestamptz
) returns tsvector
language sql
stable
parallel safe
return documents_search_vector(headline, tickers)
    || array_to_tsvector(array['@' || to_char(published_at at time zone 'UTC', 'YYYY-MM')])
"""
_FILL = """
create or replace function documents_fill_search_vector() returns trigger
language plpgsql
as $$
begin
  new.search_vector := {vector};
  return new;
end
$$
"""
_TRIGGER = """
create trigger documents_fill_search_vector
before insert or update of {columns} on documents
for each row execute function documents_fill_search_vector()
"""
_NEW = "documents_stored_search_vector(new.headline, new.tickers, new.published_at)"
_OLD = "documents_search_vector(new.headline, new.tickers)"  # 0007's


def _set_trigger(vector: str, columns: str) -> None:
    op.execute(_FILL.format(vector=vector))
    op.execute("drop trigger if exists documents_fill_search_vector on documents")
    op.execute(_TRIGGER.format(columns=columns))


def upgrade() -> None:
    op.execute(_CREATE_FUNCTION)
    _set_trigger(_NEW, "headline, tickers, published_at")
    # The table is locked until commit, so "empty" here means every row will have its month.
    op.execute(
        "insert into rollup_state (name) select 'search_months' "
        "where not exists (select from documents) on conflict (name) do nothing"
    )
    stored = op.get_bind().scalar(
        sa.text("select count(*) from rollup_state where name = 'search_vector'")
    )
    if stored:
        with op.get_context().autocommit_block():
            op.drop_index(
                EXPRESSION_INDEX, "documents", postgresql_concurrently=True, if_exists=True
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            f"create index concurrently if not exists {EXPRESSION_INDEX} on documents "
            "using gin (documents_search_vector(headline, tickers))"
        )
    # Vectors written meanwhile keep their month term, which 0007's queries never name.
    _set_trigger(_OLD, "headline, tickers")
    op.execute("drop function if exists documents_stored_search_vector(text, text[], timestamptz)")
    op.execute("delete from rollup_state where name = 'search_months'")
