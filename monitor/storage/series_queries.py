"""Reads of the rollups at the coarsest resolution that serves a range: the SQL behind
`queries.sentiment_series`, `top_keys` and `ingest_series`.

Each query is a `union all` of the pieces `resolution.plan` picks (aligned middle from the coarse
table, unaligned edges from finer ones), summed per bucket, so it returns what the minute rows
would and reads few rows however long the range.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, func, literal, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session

from monitor.storage.resolution import ORIGIN, plan
from monitor.storage.rollup_tables import ingest_table, rollups_complete, series_table

_COUNTS = ("n_negative", "n_neutral", "n_positive", "score_sum")


def series_rows(
    *,
    session: Session,
    dimension: str,
    since: datetime,
    until: datetime,
    bucket: timedelta | None,
    keys: tuple[str, ...] | None = None,
    contains: str = "",
) -> Subquery | None:
    """Rows (key, start, counts...) of `dimension` covering [since, until); None when empty."""
    selects: list[Select[Any]] = []
    for piece in plan(since, until, bucket, coarse=rollups_complete(session=session)):
        table = series_table(piece.step)
        model = table.model
        stmt = select(
            model.key, table.time.label("start"), *(getattr(model, c) for c in _COUNTS)
        ).where(model.dimension == dimension, table.time >= piece.since, table.time < piece.until)
        if keys is not None:
            stmt = stmt.where(model.key.in_(keys))
        if contains:
            stmt = stmt.where(model.key.icontains(contains, autoescape=True))
        selects.append(stmt)
    return _union(selects)


def ingest_rows(
    *, session: Session, since: datetime, until: datetime, bucket: timedelta | None
) -> Subquery | None:
    """Rows (start, model, documents, last_ingested_at) covering [since, until); None if empty."""
    selects: list[Select[Any]] = []
    for piece in plan(since, until, bucket):
        table = ingest_table(piece.step)
        model = table.model
        selects.append(
            select(
                table.time.label("start"), model.model, model.documents, model.last_ingested_at
            ).where(table.time >= piece.since, table.time < piece.until)
        )
    return _union(selects)


def _union(selects: list[Select[Any]]) -> Subquery | None:
    if not selects:
        return None
    if len(selects) == 1:
        return selects[0].subquery()
    return union_all(*selects).subquery()


def binned(
    start: ColumnElement[datetime] | InstrumentedAttribute[datetime], bucket: timedelta
) -> ColumnElement[datetime]:
    """The bucket a row's start falls in (`date_bin` from the one fixed origin)."""
    return func.date_bin(bucket, start, literal(ORIGIN)).label("bucket")
