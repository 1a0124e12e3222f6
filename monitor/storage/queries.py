"""Read-only queries for the dashboard and reports: bound parameters only, frozen rows out.

Every function takes the session as a keyword argument and never writes. Times are event times
(`published_at`, `minute`), so a backfill of history reads exactly like live traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from monitor.storage import series_queries
from monitor.storage.models import Document, RejectedRecord
from monitor.storage.rollup_models import IngestDay, SentimentMinute
from monitor.storage.rollup_tables import rollups_complete
from monitor.storage.series_queries import binned


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open event-time interval [since, until)."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.until <= self.since:
            raise ValueError(f"until ({self.until}) must be after since ({self.since})")


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Counts per class and score sum of one key over one time bucket."""

    key: str
    bucket: datetime
    n_negative: int
    n_neutral: int
    n_positive: int
    score_sum: float


@dataclass(frozen=True, slots=True)
class KeyVolume:
    key: str
    volume: int


@dataclass(frozen=True, slots=True)
class ModelUsage:
    model: str
    documents: int
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    documents: int
    rejected: int
    last_published_at: datetime | None
    last_ingested_at: datetime | None


def latest_minute(*, session: Session) -> datetime | None:
    """The newest minute with any scored item, or None for an empty database."""
    stmt = select(func.max(SentimentMinute.minute)).where(SentimentMinute.dimension == "all")
    return session.scalar(stmt)


def sentiment_series(
    *,
    session: Session,
    dimension: str,
    time_range: TimeRange,
    bucket: timedelta,
    keys: tuple[str, ...] | None = None,
) -> list[SeriesPoint]:
    """Per-bucket counts for `dimension`, every key or only `keys`, oldest bucket first.

    Counts the minutes that start in the range, read at the coarsest resolution that serves it.
    """
    rows = series_queries.series_rows(
        session=session,
        dimension=dimension,
        since=time_range.since,
        until=time_range.until,
        bucket=bucket,
        keys=keys,
    )
    if rows is None:
        return []
    start = binned(rows.c.start, bucket)
    stmt = (
        select(
            rows.c.key,
            start,
            func.sum(rows.c.n_negative),
            func.sum(rows.c.n_neutral),
            func.sum(rows.c.n_positive),
            func.sum(rows.c.score_sum),
        )
        .group_by(rows.c.key, start)
        .order_by(start, rows.c.key)
    )
    return [
        SeriesPoint(row[0], row[1], int(row[2]), int(row[3]), int(row[4]), float(row[5]))
        for row in session.execute(stmt)
    ]


def top_keys(
    *, session: Session, dimension: str, time_range: TimeRange, contains: str = "", limit: int = 50
) -> list[KeyVolume]:
    """Keys of `dimension` by item count in the range, busiest first; `contains` filters keys."""
    rows = series_queries.series_rows(
        session=session,
        dimension=dimension,
        since=time_range.since,
        until=time_range.until,
        bucket=None,
        contains=contains,
    )
    if rows is None:
        return []
    volume = func.sum(rows.c.n_negative + rows.c.n_neutral + rows.c.n_positive)
    stmt = (
        select(rows.c.key, volume)
        .group_by(rows.c.key)
        .order_by(volume.desc(), rows.c.key)
        .limit(limit)
    )
    return [KeyVolume(key, int(n)) for key, n in session.execute(stmt)]


def documents_in(*, session: Session, time_range: TimeRange) -> int:
    """Items published in the minutes that start in the range, from the `all` rollup."""
    found = top_keys(session=session, dimension="all", time_range=time_range, limit=1)
    return found[0].volume if found else 0


def ingest_series(*, session: Session, time_range: TimeRange, bucket: timedelta) -> list[KeyVolume]:
    """Items the worker stored per bucket of `ingested_at` (processing time), oldest first.

    Counts the items stored in the minutes that start in the range, from the ingest rollups
    (from `documents` until `finsent db backfill-rollups` has run once). The key of each row is
    the bucket's start as an ISO string.
    """
    if not rollups_complete(session=session):
        return _ingest_series_scan(session, time_range, bucket)
    rows = series_queries.ingest_rows(
        session=session, since=time_range.since, until=time_range.until, bucket=bucket
    )
    if rows is None:
        return []
    start, n = binned(rows.c.start, bucket), func.sum(rows.c.documents)
    stmt = select(start, n).group_by(start).having(n > 0).order_by(start)
    return [KeyVolume(at.isoformat(), int(count)) for at, count in session.execute(stmt)]


def _ingest_series_scan(
    session: Session, time_range: TimeRange, bucket: timedelta
) -> list[KeyVolume]:
    """`ingest_series` straight from `documents`, for a database not yet backfilled."""
    start = binned(Document.ingested_at, bucket)
    stmt = (
        select(start, func.count())
        .where(Document.ingested_at >= time_range.since)
        .where(Document.ingested_at < time_range.until)
        .group_by(start)
        .order_by(start)
    )
    return [KeyVolume(at.isoformat(), int(n)) for at, n in session.execute(stmt)]


def rejected_by_reason(*, session: Session, time_range: TimeRange) -> list[KeyVolume]:
    """Rejected records per reason received in the range, most frequent first."""
    n = func.count()
    stmt = (
        select(RejectedRecord.reason, n)
        .where(RejectedRecord.received_at >= time_range.since)
        .where(RejectedRecord.received_at < time_range.until)
        .group_by(RejectedRecord.reason)
        .order_by(n.desc(), RejectedRecord.reason)
    )
    return [KeyVolume(reason, int(count)) for reason, count in session.execute(stmt)]


def model_usage(*, session: Session) -> list[ModelUsage]:
    """Each model (name and version) that scored stored items, most recently used first (ties by
    name)."""
    if rollups_complete(session=session):
        model, last = IngestDay.model, func.max(IngestDay.last_ingested_at)
        n: ColumnElement[int] = func.sum(IngestDay.documents)
        stmt = select(model, n, last).group_by(model).having(n > 0)
    else:
        model, n, last = Document.model, func.count(), func.max(Document.ingested_at)
        stmt = select(model, n, last).group_by(model)
    # Models that stored items in one transaction share its time; the name keeps their order.
    stmt = stmt.order_by(last.desc(), model)
    return [ModelUsage(name, int(count), seen) for name, count, seen in session.execute(stmt)]


def history_start(*, session: Session) -> datetime | None:
    """The oldest stored item's `published_at`, None for an empty database.

    Retention moves it forward; it is read from the head of the `published_at` index.
    """
    stmt = select(Document.published_at).order_by(Document.published_at).limit(1)
    return session.scalar(stmt)


def pipeline_status(*, session: Session) -> PipelineStatus:
    """Totals and the newest item's times: counters and index lookups, never a scan of documents
    (until the first `finsent db backfill-rollups` of a database that had rows before 0005)."""
    if rollups_complete(session=session):
        documents = session.scalar(select(func.sum(IngestDay.documents)))
    else:
        documents = session.scalar(select(func.count()).select_from(Document))
    # Rejected records are few (the dead-letter path); their count reads the received_at index.
    rejected = session.scalar(select(func.count()).select_from(RejectedRecord))
    newest = select(Document.published_at).order_by(Document.published_at.desc()).limit(1)
    stored = select(Document.ingested_at).order_by(Document.ingested_at.desc()).limit(1)
    return PipelineStatus(
        documents=int(documents or 0),
        rejected=int(rejected or 0),
        last_published_at=session.scalar(newest),
        last_ingested_at=session.scalar(stored),
    )
