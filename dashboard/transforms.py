"""Pure transforms from query rows to the frames the pages chart: no Streamlit, no database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from model.labels import SENTIMENTS, TOPICS
from monitor.storage.headline_queries import HeadlineCount
from monitor.storage.queries import SeriesPoint, TimeRange
from monitor.storage.records import AlertRecord, DeliveryRecord, Headline

__all__ = ["SENTIMENTS", "TOPICS"]  # the one list of labels, as the pages and charts read it


RANGES: dict[str, timedelta] = {
    "15 minutes": timedelta(minutes=15),
    "1 hour": timedelta(hours=1),
    "6 hours": timedelta(hours=6),
    "24 hours": timedelta(days=1),
    "7 days": timedelta(days=7),
    "30 days": timedelta(days=30),
    "90 days": timedelta(days=90),
}
DEFAULT_RANGE = "1 hour"

# Minute buckets for short ranges; from an hour up, whole hours that divide a day, then a day, so
# long ranges read hourly or daily rollups and a bucket never straddles midnight UTC.
_BUCKETS = tuple(timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440))

SERIES_COLUMNS = [
    "key",
    "bucket",
    "n_negative",
    "n_neutral",
    "n_positive",
    "volume",
    "index",
    "negative_share",
]


@dataclass(frozen=True, slots=True)
class Summary:
    """Headline figures of a series: item count, mean score (the index), share of negatives."""

    volume: int
    index: float | None
    negative_share: float | None


def time_range_ending(latest: datetime | None, span: timedelta, now: datetime) -> TimeRange:
    """`span` of event time ending just after the newest data (or now, when there is none).

    Anchoring on the newest minute keeps a backfilled history on screen as well as live traffic.
    """
    end = (latest + timedelta(minutes=1)) if latest is not None else now
    return TimeRange(since=end - span, until=end)


def bucket_for(span: timedelta, max_points: int = 120) -> timedelta:
    """The smallest standard bucket that keeps `span` within `max_points` points, a day at most:
    an hour in minutes, 24 hours in quarter hours, 7 days in 2 h, 90 days in days."""
    for bucket in _BUCKETS:
        if span / bucket <= max_points:
            return bucket
    return _BUCKETS[-1]


def series_frame(points: Iterable[SeriesPoint]) -> pd.DataFrame:
    """One row per key and bucket, with volume, index (mean score) and negative share."""
    frame = pd.DataFrame(
        [(p.key, p.bucket, p.n_negative, p.n_neutral, p.n_positive, p.score_sum) for p in points],
        columns=["key", "bucket", "n_negative", "n_neutral", "n_positive", "score_sum"],
    )
    frame["volume"] = frame["n_negative"] + frame["n_neutral"] + frame["n_positive"]
    safe = frame["volume"].where(frame["volume"] > 0)
    frame["index"] = (frame["score_sum"] / safe).astype(float)
    frame["negative_share"] = (frame["n_negative"] / safe).astype(float)
    frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True)
    return frame[SERIES_COLUMNS]


def summarize(frame: pd.DataFrame) -> Summary:
    """Totals over a series frame: volume-weighted index and negative share."""
    volume = int(frame["volume"].sum()) if not frame.empty else 0
    if volume == 0:
        return Summary(0, None, None)
    score_sum = float((frame["index"].fillna(0) * frame["volume"]).sum())
    return Summary(volume, score_sum / volume, float(frame["n_negative"].sum()) / volume)


def volume_long(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts per bucket and sentiment class, long form for a stacked bar chart."""
    long = frame.melt(
        id_vars=["bucket"],
        value_vars=["n_negative", "n_neutral", "n_positive"],
        var_name="sentiment",
        value_name="items",
    )
    long["sentiment"] = long["sentiment"].str.removeprefix("n_")
    return long


def headlines_frame(rows: Iterable[Headline]) -> pd.DataFrame:
    """The table the pages show: newest first as given, tickers joined."""
    return pd.DataFrame(
        [
            {
                "published": r.published_at,
                "headline": r.headline,
                "sentiment": r.sentiment,
                "score": round(r.score, 3),
                "topic": r.topic,
                "tickers": " ".join(f"${t}" for t in r.tickers),
                "source": r.source,
            }
            for r in rows
        ],
        columns=["published", "headline", "sentiment", "score", "topic", "tickers", "source"],
    )


def alerts_frame(rows: Iterable[AlertRecord], now: datetime) -> pd.DataFrame:
    """Episodes for the timeline: a firing episode runs until `now` (in event time: the end of
    the range shown, so a backfilled history draws the same as live traffic)."""
    return pd.DataFrame(
        [
            {
                "id": r.id,
                "subject": subject(r),
                "rule": r.rule,
                "status": r.status,
                "started": r.started_at,
                "ended": r.resolved_at or max(now, r.window_end),
                "observed": round(r.observed, 3),
                "baseline": round(r.baseline, 3),
                "deviation": round(r.deviation, 2),
                "volume": r.volume,
            }
            for r in rows
        ],
        columns=[
            "id",
            "subject",
            "rule",
            "status",
            "started",
            "ended",
            "observed",
            "baseline",
            "deviation",
            "volume",
        ],
    )


def subject(row: AlertRecord) -> str:
    """What an alert is about, as a person reads it: `topic Earnings`, `$NWF`, `all news`."""
    if row.dimension == "ticker":
        return f"${row.key}"
    if row.dimension == "all":
        return "all news"
    return f"{row.dimension} {row.key}"


def deliveries_frame(rows: Iterable[DeliveryRecord]) -> pd.DataFrame:
    """Each delivery's state, with the endpoint masked and the error cut to one line."""
    return pd.DataFrame(
        [
            {
                "event": r.event,
                "endpoint": r.shown_endpoint,
                "state": r.state,
                "attempts": r.attempts,
                "last status": r.last_status,
                "delivered": r.delivered_at,
                "next attempt": None if r.delivered_at or r.gave_up_at else r.next_attempt_at,
                "last error": r.shown_error,
            }
            for r in rows
        ],
        columns=[
            "event",
            "endpoint",
            "state",
            "attempts",
            "last status",
            "delivered",
            "next attempt",
            "last error",
        ],
    )


def bucket_label(bucket: timedelta) -> str:
    """`1 day`, `6 h`, `5 min`: a bucket as a chart title says it."""
    minutes = int(bucket.total_seconds() // 60)
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day" if days == 1 else f"{days} days"
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def match_label(count: HeadlineCount) -> str:
    """`37 items match`, or `1,000+ items match` when counting stopped at the cap."""
    n = f"{count.value:,}+" if count.capped else f"{count.value:,}"
    return f"{n} item matches" if n == "1" else f"{n} items match"
