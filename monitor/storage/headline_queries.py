"""The Headlines list: filters, full-text search (see `headline_search`), newest-first keyset
paging and a capped count; bound parameters only, frozen rows out.

A search is read one of three ways, by what it has to look at:
- a range that holds few items (under `SCAN_ROWS`, counted from the rollups): its rows are read
  through the time index and each is tested, costing what the range holds;
- a search PostgreSQL expects to match many items in the range (`DENSE` or more): as the planner
  sees fit, which reads the range newest first through the time index and stops at a page;
- any other (a rare word, a phrase, several words): the newest `RECENT` of the range one UTC
  day at a time through the text index keyed by day (0010), which reads only that day's
  entries, then, if that holds too few for a page or the count's cap, the older rest.

The text index over the words alone lists a word's matches in all history, so a short range
read the whole list (~100 ms for a word in 1.5% of 20 M headlines); and PostgreSQL estimates a
phrase as if its words were independent (72 matches for `"profit warning"`, 40,432 real), so it
rechecked every headline holding both words, at any time, before filtering by time.

Whichever way, once vectors are stored a phrase also names the adjacent word pairs it requires
(`phrase_pairs`, read from PostgreSQL's own tsquery), which the pair index (0011) answers: a
phrase of words common apart but rarely side by side no longer fetches every headline with both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.orm import Session

from monitor.storage.headline_search import TICK, day_number, matches, printed_tsquery
from monitor.storage.models import Document
from monitor.storage.phrase_pairs import Need, parse, required_pairs
from monitor.storage.queries import TimeRange, documents_in
from monitor.storage.records import Headline, headline_of
from monitor.storage.resolution import DAY, floor
from monitor.storage.search_vectors import vectors_stored

COUNT_CAP = 1000
# How far back a search reads day by day (module docstring): each day is one more index scan
# (~5 ms for a common phrase on a 2-core AMD EPYC); a week holds a page of most searches.
RECENT = timedelta(days=7)
# Searches expected to match at least this many items in their range are left to the planner.
DENSE = 20_000
# Ranges holding fewer items are searched row by row (module docstring): 20,000 rows that all
# fail take ~35 ms on a 2-core AMD EPYC.
SCAN_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class HeadlineFilter:
    """What the Headlines table shows; empty fields filter nothing. `text` is a search query."""

    time_range: TimeRange
    topics: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    ticker: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class HeadlineCursor:
    """Where a newest-first page ended: its last row's `published_at` and id."""

    published_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class HeadlinePage:
    """One page of matches, newest first; `next` continues after it, None on the last page."""

    rows: tuple[Headline, ...]
    next: HeadlineCursor | None


@dataclass(frozen=True, slots=True)
class HeadlineCount:
    """How many items match, counted no further than a cap: `capped` means "at least `value`"."""

    value: int
    capped: bool


class _Read(Enum):
    """How a search reads its range (module docstring)."""

    EXPRESSION = "0006's expression, until every search vector is stored"
    ROW_BY_ROW = "each row of the range tested"
    WHOLE_RANGE = "as the planner sees fit"
    NEWEST_DAYS = "the newest days one by one through the index keyed by day, then the rest"


@dataclass(frozen=True, slots=True)
class _Search:
    """A filter's search text, how it is read and the word pairs it requires (read through the
    pair index, 0011, once vectors are stored)."""

    text: str
    read: _Read
    pairs: Need | None = None

    def condition(self, day: int | None = None) -> ColumnElement[bool]:
        """The match condition; read through the index entries of `day` alone when given."""
        if self.read is _Read.ROW_BY_ROW:
            return matches(self.text, stored=True, indexed=False)
        stored = self.read is not _Read.EXPRESSION
        return matches(self.text, stored=stored, day=day, pairs=self.pairs)


def _search(session: Session, flt: HeadlineFilter) -> _Search | None:
    """The search of `flt`, if it has one; reads whether vectors are stored, how many items the
    range holds, the word pairs the query requires and the planner's estimate of the matches."""
    if not flt.text.strip():
        return None
    # Until the backfill after 0007 stores every vector, each row's words would be computed row
    # by row and the index keyed by day lacks rows: the planner searches the 0006 expression.
    if not vectors_stored(session=session):
        return _Search(flt.text, _Read.EXPRESSION)
    if documents_in(session=session, time_range=flt.time_range) < SCAN_ROWS:
        return _Search(flt.text, _Read.ROW_BY_ROW)
    pairs = required_pairs(parse(session.scalars(select(printed_tsquery(flt.text))).one()))
    found = _matching(flt, matches(flt.text, stored=True, pairs=pairs))
    dense = _estimate(session, found) >= DENSE
    return _Search(flt.text, _Read.WHOLE_RANGE if dense else _Read.NEWEST_DAYS, pairs)


def _estimate(session: Session, stmt: Select[Any]) -> float:
    """How many rows the planner expects `stmt` to return (its plan, not run)."""
    # `render_postcompile` expands IN lists, which a driver-level statement cannot.
    compiled = stmt.compile(session.get_bind(), compile_kwargs={"render_postcompile": True})
    explain = f"explain (format json) {compiled}"
    plan = session.connection().exec_driver_sql(explain, compiled.params).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


def _parts(
    search: _Search | None, flt: HeadlineFilter, top: datetime
) -> Iterator[tuple[HeadlineFilter, ColumnElement[bool] | None]]:
    """The parts of `flt`'s range up to `top` to read in turn, newest first, each with its match
    condition: the whole range, or (`NEWEST_DAYS`) each UTC day of the newest `RECENT`, then
    the older rest."""
    if search is None or search.read is not _Read.NEWEST_DAYS:
        yield flt, search.condition() if search else None
        return
    since, until = flt.time_range.since, flt.time_range.until
    split = max(since, top - RECENT)
    end = min(until, top + TICK)
    while end > split:
        start = max(split, floor(end - TICK, DAY))
        yield replace(flt, time_range=TimeRange(start, end)), search.condition(day_number(start))
        end = start
    if split > since:
        yield replace(flt, time_range=TimeRange(since, split)), search.condition()


def _matching(flt: HeadlineFilter, search: ColumnElement[bool] | None) -> Select[Any]:
    """A row (of 1) for each item matching `flt` and `search`: what counts and estimates read."""
    return _filtered(select(literal(1)).select_from(Document), flt, search)


def _filtered(
    stmt: Select[Any], flt: HeadlineFilter, search: ColumnElement[bool] | None
) -> Select[Any]:
    stmt = stmt.where(Document.published_at >= flt.time_range.since)
    stmt = stmt.where(Document.published_at < flt.time_range.until)
    if flt.topics:
        stmt = stmt.where(Document.topic.in_(flt.topics))
    if flt.sentiments:
        stmt = stmt.where(Document.sentiment.in_(flt.sentiments))
    if flt.ticker:
        stmt = stmt.where(Document.tickers.contains([flt.ticker.upper().replace("\x00", "")]))
    if search is not None:
        stmt = stmt.where(search)
    return stmt


def headlines(
    *, session: Session, flt: HeadlineFilter, limit: int = 50, after: HeadlineCursor | None = None
) -> HeadlinePage:
    """Items matching `flt`, newest first (ties by id), `limit` of them after `after`.

    Keyset paging: each page reads only its own rows from the (published_at, id) index, and a
    page stays put while new items arrive above it.
    """
    search = _search(session, flt)
    top = min(flt.time_range.until, after.published_at) if after else flt.time_range.until
    docs: list[Document] = []
    for part, condition in _parts(search, flt, top):
        docs += _page(session, part, condition, after, limit + 1 - len(docs))
        if len(docs) > limit:
            break
    rows = tuple(headline_of(doc) for doc in docs[:limit])
    if len(docs) <= limit or not rows:
        return HeadlinePage(rows, None)
    return HeadlinePage(rows, HeadlineCursor(rows[-1].published_at, rows[-1].id))


def _page(
    session: Session,
    flt: HeadlineFilter,
    search: ColumnElement[bool] | None,
    after: HeadlineCursor | None,
    limit: int,
) -> list[Document]:
    """Up to `limit` documents matching `flt` and `search` after `after`, newest first."""
    stmt = _filtered(select(Document), flt, search)
    if after is not None:
        cursor = tuple_(
            literal(after.published_at, Document.published_at.type),
            literal(after.id, Document.id.type),
        )
        stmt = stmt.where(tuple_(Document.published_at, Document.id) < cursor)
    order = (Document.published_at.desc(), Document.id.desc())
    return list(session.scalars(stmt.order_by(*order).limit(limit)))


def count_headlines(
    *, session: Session, flt: HeadlineFilter, cap: int = COUNT_CAP
) -> HeadlineCount:
    """How many items match `flt`, reading at most `cap` + 1 of them."""
    n = 0
    for part, condition in _parts(_search(session, flt), flt, flt.time_range.until):
        n += _count(session, part, condition, cap + 1 - n)
        if n > cap:
            break
    return HeadlineCount(min(n, cap), capped=n > cap)


def _count(
    session: Session, flt: HeadlineFilter, search: ColumnElement[bool] | None, limit: int
) -> int:
    """How many items match `flt` and `search`, counted no further than `limit`."""
    matching = _matching(flt, search).limit(limit).subquery()
    return int(session.scalar(select(func.count()).select_from(matching)) or 0)
