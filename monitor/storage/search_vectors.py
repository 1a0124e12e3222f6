"""The stored search vector (0007): whether every document has one, and the backfill that fills
the rows stored before 0007, one short transaction per batch of ids.

A trigger fills the column of every row written since 0007, whichever finsent version writes it,
so one pass over the older rows in id order leaves none empty; then the `rollup_state` row
`search_vector` says so, searches read the column, and 0006's expression index, no longer read, is
dropped (as migration 0008 does where the column was complete already). Running it again fills
nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from monitor.exceptions import BackfillFailed
from monitor.storage.backfill import LOCK_TIMEOUT
from monitor.storage.db import error_summary
from monitor.storage.rollup_tables import mark_complete, marked_complete

STORED = "search_vector"  # the `rollup_state` row: every document has its search_vector
EXPRESSION_INDEX = "ix_documents_search"  # 0006's, read only until STORED
BATCH = 10_000  # ids per transaction: row locks held well under a second
_REPORT_EVERY = 100  # batches between progress lines


def _fill(first: bool) -> TextClause:
    # Keyset on the primary key: each batch reads its own ids only. '' sorts before any id, so
    # the first batch starts at or after it.
    after = ">=" if first else ">"
    return text(
        f"""
with batch as (select id from documents where id {after} :last order by id limit :n),
filled as (
  update documents d set search_vector = documents_search_vector(d.headline, d.tickers)
  from batch where d.id = batch.id and d.search_vector is null
  returning 1
)
select (select max(id) from batch), (select count(*) from filled)
"""  # noqa: S608 - the operator is one of two constants
    )


_FIRST, _NEXT = _fill(first=True), _fill(first=False)


def vectors_stored(*, session: Session) -> bool:
    """Whether every document has its stored `search_vector`, so searches may read the column."""
    return marked_complete(STORED, session=session)


def backfill_search_vectors(
    engine: Engine, progress: Callable[[str], None] | None = None, *, batch: int = BATCH
) -> int:
    """Fill `search_vector` wherever it is NULL, mark it complete and drop 0006's index; the rows
    filled."""
    say = progress or (lambda _: None)
    last, filled, batches = "", 0, 0
    while True:
        try:
            with engine.begin() as connection:
                connection.execute(LOCK_TIMEOUT)
                statement = _NEXT if batches else _FIRST
                reached, n = connection.execute(statement, {"last": last, "n": batch}).one()
        except DBAPIError as e:
            raise BackfillFailed(
                f"filling documents.search_vector after id {last!r} failed and was rolled back "
                f"(earlier batches stay done; run the backfill again): {error_summary(e)}"
            ) from e
        if reached is None:
            break
        last, filled, batches = reached, filled + n, batches + 1
        if batches % _REPORT_EVERY == 0:
            say(f"documents.search_vector: {filled} rows filled, up to id {last!r}")
    with engine.begin() as connection:
        mark_complete(connection, STORED)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"drop index concurrently if exists {EXPRESSION_INDEX}"))
    say(f"documents.search_vector: {filled} rows filled in {batches} batches; complete")
    return filled
