"""Which table holds each rollup resolution, and the upserts that keep them all in step.

The worker calls `write_rollups` in the transaction that stored the documents, for new documents
only; every statement touches its rows in sorted order and the tables in one fixed order
(minute, hour, day, week; then ingest minute, hour, day), so concurrent writers cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import ColumnElement, Connection, Select, func, select, text
from sqlalchemy.orm import Session

from monitor.storage.resolution import DAY, HOUR, MINUTE, WEEK
from monitor.storage.rollup import (
    Counted,
    IngestDelta,
    SeriesDelta,
    coarsen,
    ingest_counts,
    ingest_rollup,
    rollup,
)
from monitor.storage.rollup_models import (
    IngestDay,
    IngestHour,
    IngestMinute,
    RollupState,
    SentimentDay,
    SentimentHour,
    SentimentMinute,
    SentimentWeek,
)

# The `rollup_state` row that says the coarse and ingest rollups cover all history.
BACKFILLED = "backfill"
_MARK_COMPLETE = text(
    "insert into rollup_state (name) values (:name) "
    "on conflict (name) do update set completed_at = now()"
)


@dataclass(frozen=True, slots=True)
class RollupTable:
    """One rollup table: its model, its time column's name and the resolution of its rows."""

    model: type[Any]
    column: str
    step: timedelta

    @property
    def name(self) -> str:
        return str(self.model.__tablename__)

    @property
    def time(self) -> ColumnElement[datetime]:
        column: ColumnElement[datetime] = getattr(self.model, self.column)
        return column


SERIES = (
    RollupTable(SentimentMinute, "minute", MINUTE),
    RollupTable(SentimentHour, "hour", HOUR),
    RollupTable(SentimentDay, "day", DAY),
    RollupTable(SentimentWeek, "week", WEEK),
)
INGEST = (
    RollupTable(IngestMinute, "minute", MINUTE),
    RollupTable(IngestHour, "hour", HOUR),
    RollupTable(IngestDay, "day", DAY),
)


def series_table(step: timedelta) -> RollupTable:
    return next(t for t in SERIES if t.step == step)


def ingest_table(step: timedelta) -> RollupTable:
    return next(t for t in INGEST if t.step == step)


def _upsert_series(table: RollupTable) -> str:
    return f"""
insert into {table.name} as m
  (dimension, key, {table.column}, n_negative, n_neutral, n_positive, score_sum)
select * from unnest(
  %s::text[], %s::text[], %s::timestamptz[], %s::int[], %s::int[], %s::int[], %s::float8[])
on conflict (dimension, key, {table.column}) do update set
  n_negative = m.n_negative + excluded.n_negative,
  n_neutral = m.n_neutral + excluded.n_neutral,
  n_positive = m.n_positive + excluded.n_positive,
  score_sum = m.score_sum + excluded.score_sum
"""  # noqa: S608 - table and column names are constants


def _upsert_ingest(table: RollupTable) -> str:
    return f"""
insert into {table.name} as m ({table.column}, model, documents, last_ingested_at)
select * from unnest(%s::timestamptz[], %s::text[], %s::bigint[], %s::timestamptz[])
on conflict ({table.column}, model) do update set
  documents = m.documents + excluded.documents,
  last_ingested_at = greatest(m.last_ingested_at, excluded.last_ingested_at)
"""  # noqa: S608 - table and column names are constants


_UPSERT_SERIES = {t.step: _upsert_series(t) for t in SERIES}
_UPSERT_INGEST = {t.step: _upsert_ingest(t) for t in INGEST}


def write_rollups(cursor: psycopg.Cursor[Any], counted: Sequence[Counted]) -> int:
    """Add newly stored documents to every rollup; returns the number of minute rows touched."""
    minutes = rollup(counted)
    if not minutes:
        return 0
    for table in SERIES:
        deltas = minutes if table.step == MINUTE else coarsen(minutes, table.step)
        cursor.execute(_UPSERT_SERIES[table.step], _columns(deltas))
    for table in INGEST:
        cursor.execute(_UPSERT_INGEST[table.step], _columns(ingest_rollup(counted, table.step)))
    return len(minutes)


def _subtract(table: RollupTable) -> tuple[str, str, str]:
    """Lock the rows in sorted order (as writers do), take the documents off, drop empty rows."""
    rows = "unnest(cast(:starts as timestamptz[]), cast(:models as text[])) as v(start, model)"
    lock = f"""
select 1 from {table.name} t join {rows} on t.{table.column} = v.start and t.model = v.model
order by t.{table.column}, t.model for update of t
"""  # noqa: S608 - table and column names are constants
    take = f"""
update {table.name} t set documents = t.documents - v.n
from unnest(cast(:starts as timestamptz[]), cast(:models as text[]), cast(:ns as bigint[]))
  as v(start, model, n)
where t.{table.column} = v.start and t.model = v.model
"""  # noqa: S608 - table and column names are constants
    drop = f"""
delete from {table.name} t using {rows}
where t.{table.column} = v.start and t.model = v.model and t.documents <= 0
"""  # noqa: S608 - table and column names are constants
    return lock, take, drop


_SUBTRACT = {t.step: _subtract(t) for t in INGEST}


def subtract_documents(session: Session, deleted: Sequence[tuple[datetime, str]]) -> None:
    """Take deleted documents, (ingested_at, model), off the ingest counters (retention).

    Rows not there (a database not yet backfilled) are left alone: the backfill counts afresh.
    """
    for table in INGEST:
        deltas = ingest_counts(deleted, table.step)
        if not deltas:
            return
        params = {
            "starts": [d.start for d in deltas],
            "models": [d.model for d in deltas],
            "ns": [d.documents for d in deltas],
        }
        for statement in _SUBTRACT[table.step]:
            session.execute(text(statement), params)


def _columns(rows: Sequence[SeriesDelta] | Sequence[IngestDelta]) -> list[list[object]]:
    """Transpose dataclass rows into one list per column, for `unnest`."""
    return [list(column) for column in zip(*(astuple(r) for r in rows), strict=True)]


def marked_complete(name: str, *, session: Session) -> bool:
    """Whether the backfill `name` has finished (its `RollupState` row is there)."""
    stmt: Select[Any] = select(func.count()).where(RollupState.name == name)
    return bool(session.scalar(stmt))


def mark_complete(connection: Connection, name: str) -> None:
    """Record that the backfill `name` has finished; again later, it only updates the time."""
    connection.execute(_MARK_COMPLETE, {"name": name})


def rollups_complete(*, session: Session) -> bool:
    """Whether the hour/day and ingest rollups cover all history (see `RollupState`)."""
    return marked_complete(BACKFILLED, session=session)
