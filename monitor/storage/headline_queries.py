"""The Headlines list: filters, full-text search (see `headline_search`), newest-first keyset
paging and a capped count; bound parameters only, frozen rows out.

A search of several terms (a phrase, two words) is planned in two parts. PostgreSQL estimates its
matches as if the words were independent, so a phrase of common words (`"profit warning"`) looks
a thousand times rarer than it is and the planner rechecks every headline holding both words, at
any time, before it filters by time (134 ms at 20 M documents). Over the newest `RECENT` of the
range such a search is planned blind (the default estimate), which intersects the time index with
the text index; the older rest keeps the word-based plan, the best one for a rare search.

A range that holds few items (under `SCAN_ROWS`, counted from the rollups) is searched without
the text index: its rows are read through the time index and each is tested. That costs what the
range holds; the text index first reads every match of a word in all history, which grows with
the archive (85 ms for one hour and a word in 1.5% of 20 M headlines).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from monitor.storage.headline_search import matches, tsquery
from monitor.storage.models import Document
from monitor.storage.queries import TimeRange, documents_in
from monitor.storage.records import Headline, headline_of
from monitor.storage.search_vectors import vectors_stored

COUNT_CAP = 1000
# The newest part of a range searched first with a blind plan (module docstring): a day holds
# enough matches of a common phrase for a page, and its time-index scan stays small.
RECENT = timedelta(days=1)
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


@dataclass(frozen=True, slots=True)
class _Search:
    """The search of a filter: its match condition planned from the words and planned blind,
    and whether it has several terms (where the word-based estimate misleads). For a range of few
    items both are the row-by-row test and `several_terms` is False (nothing to split)."""

    by_words: ColumnElement[bool]
    blind: ColumnElement[bool]
    several_terms: bool

    def condition(self, span: timedelta) -> ColumnElement[bool]:
        """The condition to use over a range of `span`."""
        return self.blind if self.several_terms and span <= RECENT else self.by_words


def _search(session: Session, flt: HeadlineFilter) -> _Search | None:
    """The search of `flt`, if it has one; reads whether vectors are stored, how many items the
    range holds and the term count."""
    if not flt.text.strip():
        return None
    stored = vectors_stored(session=session)
    # Without stored vectors (until the backfill after 0007) each row's words would be computed.
    if stored and documents_in(session=session, time_range=flt.time_range) < SCAN_ROWS:
        scan = matches(flt.text, stored=True, indexed=False)
        return _Search(by_words=scan, blind=scan, several_terms=False)
    nodes = session.scalar(select(func.numnode(tsquery(flt.text))))
    return _Search(
        by_words=matches(flt.text, stored=stored),
        blind=matches(flt.text, stored=stored, planned_blind=True),
        several_terms=(nodes or 0) > 1,
    )


def _span(time_range: TimeRange) -> timedelta:
    return time_range.until - time_range.since


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
    rng = flt.time_range
    if search is None or not search.several_terms:
        docs = _page(session, flt, search.by_words if search else None, after, limit + 1)
    else:
        top = min(rng.until, after.published_at) if after else rng.until
        split = max(rng.since, top - RECENT)
        docs = []
        if split < top:
            recent = replace(flt, time_range=TimeRange(split, rng.until))
            docs = _page(session, recent, search.blind, after, limit + 1, all_first=True)
        if len(docs) <= limit and split > rng.since:
            older = replace(flt, time_range=TimeRange(rng.since, split))
            docs += _page(session, older, search.by_words, after, limit + 1 - len(docs))
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
    *,
    all_first: bool = False,
) -> list[Document]:
    """Up to `limit` documents matching `flt` and `search` after `after`, newest first.

    `all_first` finds every match before sorting: behind an OFFSET 0 fence the planner cannot
    walk the time index newest-first for a blind search, which reads the whole window when the
    matches are few, and intersects the time and text indexes instead.
    """
    stmt = _filtered(select(Document), flt, search)
    if after is not None:
        cursor = tuple_(
            literal(after.published_at, Document.published_at.type),
            literal(after.id, Document.id.type),
        )
        stmt = stmt.where(tuple_(Document.published_at, Document.id) < cursor)
    doc: Any = Document
    if all_first:
        doc = aliased(Document, stmt.offset(0).subquery())
        stmt = select(doc)
    return list(session.scalars(stmt.order_by(doc.published_at.desc(), doc.id.desc()).limit(limit)))


def count_headlines(
    *, session: Session, flt: HeadlineFilter, cap: int = COUNT_CAP
) -> HeadlineCount:
    """How many items match `flt`, reading at most `cap` + 1 of them."""
    search = _search(session, flt)
    condition = search.condition(_span(flt.time_range)) if search else None
    rows = _filtered(select(literal(1)).select_from(Document), flt, condition)
    matching = rows.limit(cap + 1).subquery()
    n = int(session.scalar(select(func.count()).select_from(matching)) or 0)
    return HeadlineCount(min(n, cap), capped=n > cap)
