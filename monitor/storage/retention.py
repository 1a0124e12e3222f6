"""Retention: delete rows older than their table's cutoff, oldest first, in short batches.

Each batch is its own transaction of at most `batch_rows` rows, found through the table's time
index (the small outbox has none and is scanned) and deleted by ctid, so the worker's inserts
never wait long behind a prune, and a failure rolls back that one batch only. A rollup row
(minute, hour, day, week) goes only once the whole of its bucket is older than the cutoff; the
ingest counters lose the documents a batch deletes in that batch's transaction, so they always
count exactly the stored documents.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnClause, ColumnElement, any_, delete, func, literal_column, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from monitor.exceptions import PruneFailed
from monitor.storage.db import error_summary
from monitor.storage.models import DIMENSIONS, Alert, AlertDelivery, Base, Document, RejectedRecord
from monitor.storage.resolution import floor
from monitor.storage.rollup_tables import SERIES, RollupTable, subtract_documents
from monitor.storage.settings import MonitorSettings

DEFAULT_BATCH_ROWS = 5000
# A batch waits this long at most behind a row the worker holds, then the prune gives up.
LOCK_TIMEOUT = timedelta(seconds=5)
# A row's physical address: unqualified, it names the row of the innermost table read.
CTID: ColumnClause[Any] = literal_column("ctid")
SERIES_TABLES = tuple(t.name for t in SERIES)
TABLES = ("documents", "rejected_records", *SERIES_TABLES, "alert_deliveries")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each kind of row is kept; None keeps it for ever.

    `documents` covers `documents` and `rejected_records` (both are the ingest record; the
    ingest counters follow the documents); `series` covers `sentiment_minute`, `_hour`, `_day`
    and `_week` (a row goes once its whole bucket is older); `outbox` covers delivered or given-up
    deliveries.
    """

    documents: timedelta | None = None
    series: timedelta | None = None
    outbox: timedelta | None = None
    batch_rows: int = DEFAULT_BATCH_ROWS

    def __post_init__(self) -> None:
        for name in ("documents", "series", "outbox"):
            value = getattr(self, name)
            if value is not None and value <= timedelta(0):
                raise ValueError(f"{name}: a retention must be positive or None, got {value}")
        if self.batch_rows < 1:
            raise ValueError(f"batch_rows must be at least 1, got {self.batch_rows}")

    @classmethod
    def of(cls, settings: MonitorSettings) -> RetentionPolicy:
        """The policy the `FINSENT_*RETENTION_DAYS` settings describe (0 days: keep for ever)."""

        def days(n: int) -> timedelta | None:
            return timedelta(days=n) if n > 0 else None

        return cls(
            documents=days(settings.retention_days),
            series=days(settings.series_retention_days),
            outbox=days(settings.outbox_retention_days),
            batch_rows=settings.retention_batch_rows,
        )

    @property
    def enabled(self) -> bool:
        return any(p is not None for p in (self.documents, self.series, self.outbox))

    def cutoffs(self, now: datetime, series_floor: datetime | None = None) -> Cutoffs:
        """Delete before these instants; the series cutoff never passes `series_floor`."""
        series = None if self.series is None else now - self.series
        if series is not None and series_floor is not None:
            series = min(series, series_floor)
        return Cutoffs(
            documents=None if self.documents is None else now - self.documents,
            series=series,
            outbox=None if self.outbox is None else now - self.outbox,
        )


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Rows older than these instants go; None keeps that kind of row."""

    documents: datetime | None
    series: datetime | None
    outbox: datetime | None

    def of(self, table: str) -> datetime | None:
        if table in ("documents", "rejected_records"):
            return self.documents
        return self.series if table in SERIES_TABLES else self.outbox


@dataclass(frozen=True, slots=True)
class TableCount:
    """Rows of one table deleted (or, in a dry run, that would be) older than `cutoff`."""

    table: str
    cutoff: datetime | None
    rows: int = 0
    batches: int = 0


@dataclass(frozen=True, slots=True)
class PruneReport:
    """Counts per table; `complete` False when the time budget ran out first."""

    tables: tuple[TableCount, ...]
    dry_run: bool
    complete: bool

    def rows(self, table: str) -> int:
        return sum(t.rows for t in self.tables if t.table == table)

    def plus(self, later: PruneReport) -> PruneReport:
        """This slice's counts followed by a later slice's, of the same run."""
        mine = {t.table: t for t in self.tables}
        merged = tuple(
            replace(t, rows=mine[t.table].rows + t.rows, batches=mine[t.table].batches + t.batches)
            if t.table in mine
            else t
            for t in later.tables
        )
        return PruneReport(merged, dry_run=self.dry_run, complete=later.complete)


@dataclass(frozen=True, slots=True)
class _Sweep:
    """One pass over a table: the time it is pruned by (oldest first) and what must stay."""

    table: str
    model: type[Base]
    time: ColumnElement[datetime] | InstrumentedAttribute[datetime]
    keep: tuple[ColumnElement[bool], ...] = ()
    # Rollup rows cover a bucket of this size from their time: they go once all of it is old.
    bucket: timedelta | None = None
    # Deleting documents takes them off the ingest counters in the same transaction.
    counted: bool = False

    def cutoff(self, cutoff: datetime) -> datetime:
        """Delete rows whose time is before this: a whole bucket before `cutoff` for rollups."""
        return cutoff if self.bucket is None else floor(cutoff, self.bucket)


def _sweeps() -> list[_Sweep]:
    firing = Alert.status == "firing"
    finished = func.coalesce(AlertDelivery.delivered_at, AlertDelivery.gave_up_at)
    return [
        _Sweep(
            "documents",
            Document,
            Document.published_at,
            # An open alert's evidence stays while the alert is open.
            (Document.id.not_in(select(func.unnest(Alert.document_ids)).where(firing)),),
            counted=True,
        ),
        _Sweep("rejected_records", RejectedRecord, RejectedRecord.received_at),
        *(_series_sweep(table, dimension) for table in SERIES for dimension in DIMENSIONS),
        _Sweep(
            "alert_deliveries",
            AlertDelivery,
            finished,  # null while pending: a pending delivery is never pruned
            (AlertDelivery.alert_id.not_in(select(Alert.id).where(firing)),),
        ),
    ]


def _series_sweep(table: RollupTable, dimension: str) -> _Sweep:
    # One pass per dimension, so each batch is a range scan of (dimension, time).
    keep = (table.model.dimension == dimension,)
    return _Sweep(table.name, table.model, table.time, keep, bucket=table.step)


def prune(
    sessions: sessionmaker[Session],
    cutoffs: Cutoffs,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    dry_run: bool = False,
    deadline: float | None = None,
    lock_timeout: timedelta = LOCK_TIMEOUT,
    clock: Callable[[], float] = time.monotonic,
) -> PruneReport:
    """Delete (or with `dry_run` count) the rows older than `cutoffs`, oldest first.

    Each batch commits on its own. Once a batch has deleted rows, no new batch starts after
    `clock()` passes `deadline`; the report then says `complete=False` and a later call (which
    starts over with the same cutoffs) goes on, so every call either deletes or finishes. Raises
    `PruneFailed` when a batch fails: that batch is rolled back, the earlier ones stay deleted.
    """
    pruner = _Pruner(sessions, batch_rows, deadline, lock_timeout, clock)
    counts = {t: TableCount(t, cutoffs.of(t)) for t in TABLES}
    complete = True
    for sweep in _sweeps():
        configured = cutoffs.of(sweep.table)
        if configured is None or not complete:
            continue
        cutoff = sweep.cutoff(configured)
        if dry_run:
            rows, batches = pruner.count(sweep, cutoff), 0
        else:
            rows, batches, complete = pruner.sweep(sweep, cutoff)
        done = counts[sweep.table]
        counts[sweep.table] = replace(done, rows=done.rows + rows, batches=done.batches + batches)
    return PruneReport(tuple(counts.values()), dry_run=dry_run, complete=complete)


class _Pruner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        batch_rows: int,
        deadline: float | None,
        lock_timeout: timedelta,
        clock: Callable[[], float],
    ) -> None:
        self._sessions = sessions
        self._rows = batch_rows
        self._deadline = deadline
        self._lock_timeout_ms = max(1, int(lock_timeout.total_seconds() * 1000))
        self._clock = clock
        self._deleted_any = False

    def count(self, sweep: _Sweep, cutoff: datetime) -> int:
        stmt = select(func.count()).select_from(sweep.model).where(sweep.time < cutoff, *sweep.keep)
        with self._sessions() as session:
            return int(session.scalar(stmt) or 0)

    def sweep(self, sweep: _Sweep, cutoff: datetime) -> tuple[int, int, bool]:
        """Delete batch after batch: (rows, batches, whether the sweep finished)."""
        rows = batches = 0
        start: datetime | None = None
        while True:
            # Progress: a call stops for time only once it has deleted something, so an
            # empty sweep (one cheap probe) never uses up a slice.
            late = self._deadline is not None and self._clock() >= self._deadline
            if late and self._deleted_any:
                return rows, batches, False
            try:
                times = self._batch(sweep, cutoff, start)
            except DBAPIError as e:
                raise PruneFailed(
                    f"pruning {sweep.table} failed after deleting {rows} rows, the failing batch "
                    f"was rolled back: {error_summary(e)}"
                ) from e
            self._deleted_any = self._deleted_any or bool(times)
            rows, batches = rows + len(times), batches + 1
            if len(times) < self._rows:
                return rows, batches, True
            # Keyset: the next batch starts where this one ended, not at the (dead) index head.
            start = max(times)

    def _batch(self, sweep: _Sweep, cutoff: datetime, start: datetime | None) -> Sequence[datetime]:
        victims = select(CTID).select_from(sweep.model).where(sweep.time < cutoff, *sweep.keep)
        if start is not None:
            victims = victims.where(sweep.time >= start)
        victims = victims.order_by(sweep.time).limit(self._rows)
        # `ctid = any(array(...))` is a TID scan: the batch's rows are fetched directly, where
        # a join back on the key may scan the whole table. A row updated meanwhile (late data
        # added to an old minute) has moved and is left for the next run.
        counted = (Document.ingested_at, Document.model) if sweep.counted else ()
        stmt = (
            delete(sweep.model)
            .where(CTID == any_(func.array(victims.scalar_subquery())))
            .returning(sweep.time, *counted)
            .execution_options(synchronize_session=False)
        )
        with self._sessions.begin() as session:
            timeout = f"{self._lock_timeout_ms}ms"
            session.execute(select(func.set_config("lock_timeout", timeout, True)))
            rows = session.execute(stmt).all()
            if sweep.counted:
                subtract_documents(session, [(row[1], row[2]) for row in rows])
            return [row[0] for row in rows]
