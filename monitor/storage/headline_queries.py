"""The Headlines list: filters, full-text search (see `headline_search`), newest-first keyset
paging and a capped count; bound parameters only, frozen rows out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.orm import Session

from monitor.storage.headline_search import matches
from monitor.storage.models import Document
from monitor.storage.queries import TimeRange
from monitor.storage.records import Headline, headline_of
from monitor.storage.search_vectors import vectors_stored

COUNT_CAP = 1000


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


def _search(session: Session, flt: HeadlineFilter) -> ColumnElement[bool] | None:
    """The search condition of `flt`, if it has one; reads once whether vectors are stored."""
    if not flt.text.strip():
        return None
    return matches(flt.text, stored=vectors_stored(session=session))


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
    stmt = _filtered(select(Document), flt, _search(session, flt))
    if after is not None:
        cursor = tuple_(
            literal(after.published_at, Document.published_at.type),
            literal(after.id, Document.id.type),
        )
        stmt = stmt.where(tuple_(Document.published_at, Document.id) < cursor)
    stmt = stmt.order_by(Document.published_at.desc(), Document.id.desc()).limit(limit + 1)
    docs = list(session.scalars(stmt))
    rows = tuple(headline_of(doc) for doc in docs[:limit])
    if len(docs) <= limit or not rows:
        return HeadlinePage(rows, None)
    return HeadlinePage(rows, HeadlineCursor(rows[-1].published_at, rows[-1].id))


def count_headlines(
    *, session: Session, flt: HeadlineFilter, cap: int = COUNT_CAP
) -> HeadlineCount:
    """How many items match `flt`, reading at most `cap` + 1 of them."""
    rows = _filtered(select(literal(1)).select_from(Document), flt, _search(session, flt))
    matching = rows.limit(cap + 1).subquery()
    n = int(session.scalar(select(func.count()).select_from(matching)) or 0)
    return HeadlineCount(min(n, cap), capped=n > cap)
