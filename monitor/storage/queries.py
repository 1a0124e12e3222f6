"""Read-only queries for the dashboard and reports: bound parameters only, frozen rows out.

Every function takes the session as a keyword argument and never writes. Times are event times
(`published_at`, `minute`), so a backfill of history reads exactly like live traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

from monitor.storage.models import Document, RejectedRecord, SentimentMinute

# date_bin needs an origin; any fixed instant aligned to the minute works.
_ORIGIN = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


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
    """Per-bucket counts for `dimension`, every key or only `keys`, oldest bucket first."""
    binned = func.date_bin(bucket, SentimentMinute.minute, literal(_ORIGIN)).label("bucket")
    stmt: Select[Any] = (
        select(
            SentimentMinute.key,
            binned,
            func.sum(SentimentMinute.n_negative),
            func.sum(SentimentMinute.n_neutral),
            func.sum(SentimentMinute.n_positive),
            func.sum(SentimentMinute.score_sum),
        )
        .where(SentimentMinute.dimension == dimension)
        .where(SentimentMinute.minute >= time_range.since)
        .where(SentimentMinute.minute < time_range.until)
        .group_by(SentimentMinute.key, binned)
        .order_by(binned, SentimentMinute.key)
    )
    if keys is not None:
        stmt = stmt.where(SentimentMinute.key.in_(keys))
    return [
        SeriesPoint(row[0], row[1], int(row[2]), int(row[3]), int(row[4]), float(row[5]))
        for row in session.execute(stmt)
    ]


def top_keys(
    *, session: Session, dimension: str, time_range: TimeRange, contains: str = "", limit: int = 50
) -> list[KeyVolume]:
    """Keys of `dimension` by item count in the range, busiest first; `contains` filters keys."""
    volume = func.sum(
        SentimentMinute.n_negative + SentimentMinute.n_neutral + SentimentMinute.n_positive
    )
    stmt = (
        select(SentimentMinute.key, volume)
        .where(SentimentMinute.dimension == dimension)
        .where(SentimentMinute.minute >= time_range.since)
        .where(SentimentMinute.minute < time_range.until)
        .group_by(SentimentMinute.key)
        .order_by(volume.desc(), SentimentMinute.key)
        .limit(limit)
    )
    if contains:
        stmt = stmt.where(SentimentMinute.key.icontains(contains, autoescape=True))
    return [KeyVolume(key, int(n)) for key, n in session.execute(stmt)]


def ingest_series(*, session: Session, time_range: TimeRange, bucket: timedelta) -> list[KeyVolume]:
    """Items the worker stored per bucket of `ingested_at` (processing time), oldest first.

    The key of each row is the bucket's start as an ISO string.
    """
    binned = func.date_bin(bucket, Document.ingested_at, literal(_ORIGIN)).label("bucket")
    stmt = (
        select(binned, func.count())
        .where(Document.ingested_at >= time_range.since)
        .where(Document.ingested_at < time_range.until)
        .group_by(binned)
        .order_by(binned)
    )
    return [KeyVolume(start.isoformat(), int(n)) for start, n in session.execute(stmt)]


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
    """Each model (name and version) that scored stored items, most recently used first."""
    last = func.max(Document.ingested_at)
    stmt = select(Document.model, func.count(), last).group_by(Document.model).order_by(last.desc())
    return [ModelUsage(model, int(n), seen) for model, n, seen in session.execute(stmt)]


def history_start(*, session: Session) -> datetime | None:
    """The oldest stored item's `published_at`, None for an empty database.

    Retention moves it forward; it is read from the head of the `published_at` index.
    """
    stmt = select(Document.published_at).order_by(Document.published_at).limit(1)
    return session.scalar(stmt)


def pipeline_status(*, session: Session) -> PipelineStatus:
    """Totals and the newest item's times."""
    docs = session.execute(
        select(func.count(), func.max(Document.published_at), func.max(Document.ingested_at))
    ).one()
    rejected = session.scalar(select(func.count()).select_from(RejectedRecord))
    return PipelineStatus(
        documents=int(docs[0]),
        rejected=int(rejected or 0),
        last_published_at=docs[1],
        last_ingested_at=docs[2],
    )
