"""Per-minute sentiment rollups: pure arithmetic from newly stored documents to counter deltas."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ALL_KEY = ""


@dataclass(frozen=True, slots=True)
class Counted:
    """What a rollup needs of one newly stored document."""

    published_at: datetime
    topic: str
    tickers: Sequence[str]
    sentiment: str
    score: float


@dataclass(frozen=True, slots=True)
class MinuteDelta:
    """Counts to add to one `sentiment_minute` row."""

    dimension: str
    key: str
    minute: datetime
    n_negative: int
    n_neutral: int
    n_positive: int
    score_sum: float

    @property
    def total(self) -> int:
        return self.n_negative + self.n_neutral + self.n_positive


def minute_of(moment: datetime) -> datetime:
    """The UTC minute an event-time instant falls in."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def rollup(documents: Iterable[Counted]) -> list[MinuteDelta]:
    """Deltas per (dimension, key, minute), sorted so concurrent writers lock rows in one order."""
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
        MinuteDelta(d, k, m, int(c[0]), int(c[1]), int(c[2]), c[3])
        for (d, k, m), c in sorted(acc.items(), key=lambda item: item[0])
    ]
