"""Sentiment and ingest rollups: pure arithmetic from newly stored documents to counter deltas."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.storage.resolution import MINUTE, floor

ALL_KEY = ""


@dataclass(frozen=True, slots=True)
class Counted:
    """What the rollups need of one newly stored document."""

    published_at: datetime
    topic: str
    tickers: Sequence[str]
    sentiment: str
    score: float
    model: str
    ingested_at: datetime


@dataclass(frozen=True, slots=True)
class SeriesDelta:
    """Counts to add to one row of a sentiment rollup (`sentiment_minute`, `_hour`, `_day`,
    `_week`)."""

    dimension: str
    key: str
    start: datetime
    n_negative: int
    n_neutral: int
    n_positive: int
    score_sum: float

    @property
    def total(self) -> int:
        return self.n_negative + self.n_neutral + self.n_positive


@dataclass(frozen=True, slots=True)
class IngestDelta:
    """Documents to add to one row of an ingest rollup (per processing-time bucket and model)."""

    start: datetime
    model: str
    documents: int
    last_ingested_at: datetime


def minute_of(moment: datetime) -> datetime:
    """The UTC minute an event-time instant falls in."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def rollup(documents: Iterable[Counted]) -> list[SeriesDelta]:
    """Minute deltas per (dimension, key, minute), sorted so writers lock rows in one order."""
    acc: dict[tuple[str, str, datetime], list[float]] = {}
    for doc in documents:
        minute = minute_of(doc.published_at)
        keys = [("all", ALL_KEY), ("topic", doc.topic)]
        keys += [("ticker", t) for t in dict.fromkeys(doc.tickers)]
        column = {"negative": 0, "neutral": 1, "positive": 2}[doc.sentiment]
        for dimension, key in keys:
            counts = acc.setdefault((dimension, key, minute), [0, 0, 0, 0.0])
            counts[column] += 1
            counts[3] += doc.score
    return [
        SeriesDelta(d, k, m, int(c[0]), int(c[1]), int(c[2]), c[3])
        for (d, k, m), c in sorted(acc.items(), key=lambda item: item[0])
    ]


def coarsen(deltas: Iterable[SeriesDelta], step: timedelta) -> list[SeriesDelta]:
    """The same counts summed into `step`-sized buckets (an hour, a day, a week), sorted
    likewise."""
    acc: dict[tuple[str, str, datetime], list[float]] = {}
    for delta in deltas:
        start = floor(delta.start, step)
        counts = acc.setdefault((delta.dimension, delta.key, start), [0, 0, 0, 0.0])
        counts[0] += delta.n_negative
        counts[1] += delta.n_neutral
        counts[2] += delta.n_positive
        counts[3] += delta.score_sum
    return [
        SeriesDelta(d, k, s, int(c[0]), int(c[1]), int(c[2]), c[3])
        for (d, k, s), c in sorted(acc.items(), key=lambda item: item[0])
    ]


def ingest_rollup(documents: Iterable[Counted], step: timedelta = MINUTE) -> list[IngestDelta]:
    """Documents per (`step` of `ingested_at`, model), sorted so writers lock rows in one order."""
    return ingest_counts(((doc.ingested_at, doc.model) for doc in documents), step)


def ingest_counts(
    documents: Iterable[tuple[datetime, str]], step: timedelta = MINUTE
) -> list[IngestDelta]:
    """`ingest_rollup` of (ingested_at, model) pairs: the rows to add, or to take away."""
    acc: dict[tuple[datetime, str], tuple[int, datetime]] = {}
    for ingested_at, model in documents:
        bucket = (floor(ingested_at, step), model)
        n, last = acc.get(bucket, (0, ingested_at))
        acc[bucket] = (n + 1, max(last, ingested_at))
    return [IngestDelta(s, m, n, last) for (s, m), (n, last) in sorted(acc.items())]
