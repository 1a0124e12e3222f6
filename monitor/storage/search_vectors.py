"""The stored search vector (0007, with 0008's month term): whether every document has one, and
the backfill that writes it wherever it differs from what the trigger writes now (NULL on rows
stored before 0007, no month on rows stored before 0008), one short transaction per batch of ids.

The trigger writes the vector of every row written since, whichever finsent version writes it, so
one pass over the older rows in id order leaves none behind; then the `rollup_state` rows say so,
searches use the column and its months, and 0006's expression index, no longer read, is dropped.
Running it again rewrites nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from sqlalchemy import Engine, TextClause, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from monitor.exceptions import BackfillFailed
from monitor.storage.backfill import LOCK_TIMEOUT
from monitor.storage.db import error_summary
from monitor.storage.models import RollupState
from monitor.storage.month_terms import ANY_MONTH
from monitor.storage.rollup_tables import mark_complete

STORED = "search_vector"  # the `rollup_state` row: every document has its search_vector
MONTHS = "search_months"  # ... and that vector holds 0008's month term
EXPRESSION_INDEX = "ix_documents_search"  # 0006's, read only until STORED
BATCH = 10_000  # ids per transaction: row locks held well under a second
_REPORT_EVERY = 100  # batches between progress lines


def _fill(first: bool) -> TextClause:
    # Keyset on the primary key: each batch reads its own ids only. '' sorts before any id, so
    # the first batch starts at or after it. A vector without a month term predates 0008.
    after = ">=" if first else ">"
    return text(
        f"""
with batch as (select id from documents where id {after} :last order by id limit :n),
filled as (
  update documents d
  set search_vector = documents_stored_search_vector(d.headline, d.tickers, d.published_at)
  from batch
  where d.id = batch.id
    and (d.search_vector is null or not d.search_vector @@ cast(:month_terms as tsquery))
  returning 1
)
select (select max(id) from batch), (select count(*) from filled)
"""  # noqa: S608 - the operator is one of two constants
    )


_FIRST, _NEXT = _fill(first=True), _fill(first=False)


class Vectors(Enum):
    """What searches may read: 0006's expression while some rows have no stored vector, then the
    stored column, whose month terms (0008) they may name once every vector holds one."""

    EXPRESSION = "expression"
    STORED = "stored"
    WITH_MONTHS = "with months"


def search_vectors(*, session: Session) -> Vectors:
    """Which `Vectors` state the database is in (one read of `rollup_state`)."""
    marked = select(RollupState.name).where(RollupState.name.in_((STORED, MONTHS)))
    names = set(session.scalars(marked))
    if STORED not in names:
        return Vectors.EXPRESSION
    return Vectors.WITH_MONTHS if MONTHS in names else Vectors.STORED


def vectors_stored(*, session: Session) -> bool:
    """Whether every document has its stored `search_vector`, so searches may read the column."""
    return search_vectors(session=session) is not Vectors.EXPRESSION


def backfill_search_vectors(
    engine: Engine, progress: Callable[[str], None] | None = None, *, batch: int = BATCH
) -> int:
    """Write `search_vector` wherever it is NULL or lacks its month, mark both complete and drop
    0006's index; the rows written."""
    say = progress or (lambda _: None)
    last, filled, batches = "", 0, 0
    params = {"n": batch, "month_terms": ANY_MONTH}
    while True:
        try:
            with engine.begin() as connection:
                connection.execute(LOCK_TIMEOUT)
                statement = _NEXT if batches else _FIRST
                reached, n = connection.execute(statement, params | {"last": last}).one()
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
        mark_complete(connection, MONTHS)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"drop index concurrently if exists {EXPRESSION_INDEX}"))
    say(f"documents.search_vector: {filled} rows filled in {batches} batches; complete")
    return filled
