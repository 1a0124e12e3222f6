"""The dashboard's pure transforms: no Streamlit runtime, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard import charts, transforms
from monitor.storage.headline_queries import HeadlineCount
from monitor.storage.queries import SeriesPoint, TimeRange
from monitor.storage.records import AlertRecord, DeliveryRecord

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
COUNTS = [(0, False), (1, False), (37, False), (1000, True)]


def _point(key: str, minute: int, neg: int, neu: int, pos: int, score: float) -> SeriesPoint:
    return SeriesPoint(key, T0 + timedelta(minutes=minute), neg, neu, pos, score)


def test_series_frame_computes_index_and_negative_share() -> None:
    frame = transforms.series_frame([_point("", 0, 2, 1, 1, -1.0), _point("", 1, 0, 0, 0, 0.0)])
    assert frame["volume"].tolist() == [4, 0]
    assert frame["index"][0] == pytest.approx(-0.25)
    assert frame["negative_share"][0] == pytest.approx(0.5)
    assert pd.isna(frame["index"][1])  # an empty bucket has no index, not a zero
    assert str(frame["bucket"].dt.tz) == "UTC"


def test_summarize_weights_by_volume_and_handles_nothing() -> None:
    frame = transforms.series_frame([_point("", 0, 3, 0, 0, -2.4), _point("", 1, 0, 0, 1, 0.8)])
    summary = transforms.summarize(frame)
    assert summary.volume == 4
    assert summary.index == pytest.approx(-0.4)
    assert summary.negative_share == pytest.approx(0.75)
    assert transforms.summarize(transforms.series_frame([])) == transforms.Summary(0, None, None)


def test_time_range_ends_after_the_newest_minute_or_now() -> None:
    window = transforms.time_range_ending(T0, timedelta(hours=1), now=T0 + timedelta(days=3))
    assert window == TimeRange(T0 - timedelta(minutes=59), T0 + timedelta(minutes=1))
    empty = transforms.time_range_ending(None, timedelta(hours=1), now=T0)
    assert empty.until == T0
    with pytest.raises(ValueError, match="must be after"):
        TimeRange(T0, T0)


@pytest.mark.parametrize(
    ("span", "bucket"),
    [
        (timedelta(minutes=15), timedelta(minutes=1)),
        (timedelta(hours=1), timedelta(minutes=1)),
        (timedelta(hours=6), timedelta(minutes=5)),
        (timedelta(days=1), timedelta(minutes=15)),
        (timedelta(days=7), timedelta(hours=2)),
        (timedelta(days=30), timedelta(hours=6)),
        (timedelta(days=90), timedelta(days=1)),
        (timedelta(days=365), timedelta(days=1)),
    ],
)
def test_bucket_keeps_charts_small(span: timedelta, bucket: timedelta) -> None:
    assert transforms.bucket_for(span) == bucket


@pytest.mark.parametrize("label", list(transforms.RANGES))
def test_every_offered_range_charts_at_a_resolution_that_fits(label: str) -> None:
    span = transforms.RANGES[label]
    for max_points in (60, 120):
        bucket = transforms.bucket_for(span, max_points)
        # A day is the coarsest bucket: 90 days draw 90 daily points even where 60 were asked.
        assert span / bucket <= max(max_points, 90)
        # Finer than a minute is never needed; an hour or more divides a day (rollup aligned).
        assert bucket >= timedelta(minutes=1)
        if bucket >= timedelta(hours=1):
            assert timedelta(days=1) % bucket == timedelta(0) or bucket == timedelta(days=1)
    assert "90 days" in transforms.RANGES


def test_bucket_labels() -> None:
    labels = [transforms.bucket_label(timedelta(minutes=m)) for m in (1, 15, 120, 1440, 2880)]
    assert labels == ["1 min", "15 min", "2 h", "1 day", "2 days"]


def test_deliveries_frame_shows_state_and_masked_endpoint() -> None:
    delivered = DeliveryRecord(
        1, 1, "firing", "https://h.example/x", "msg_1", 1, T0, T0, None, 200, None
    )
    frame = transforms.deliveries_frame([delivered])
    assert frame["endpoint"].tolist() == ["https://h.example/…"]
    assert frame["state"].tolist() == ["delivered"]
    assert frame["next attempt"].tolist() == [None]


def _alert(dimension: str, key: str, resolved: datetime | None) -> AlertRecord:
    return AlertRecord(
        1,
        "r",
        dimension,
        key,
        "resolved" if resolved else "firing",
        "negative_share",
        T0,
        resolved,
        T0,
        T0,
        0.7,
        0.2,
        4.0,
        20,
    )


def test_alerts_frame_runs_firing_episodes_until_now() -> None:
    now = T0 + timedelta(minutes=30)
    frame = transforms.alerts_frame(
        [_alert("ticker", "NWF", None), _alert("topic", "Macro", T0 + timedelta(minutes=5))], now
    )
    assert frame["subject"].tolist() == ["$NWF", "topic Macro"]
    assert frame["ended"].tolist() == [now, T0 + timedelta(minutes=5)]
    assert transforms.subject(_alert("all", "", None)) == "all news"


def test_match_label_says_when_counting_stopped() -> None:
    labels = [transforms.match_label(HeadlineCount(n, capped)) for n, capped in COUNTS]
    assert labels == ["0 items match", "1 item matches", "37 items match", "1,000+ items match"]


def test_charts_build_valid_vega_lite_specs() -> None:
    frame = transforms.series_frame([_point("Macro", 0, 1, 1, 1, 0.1)])
    specs = [
        charts.index_line(frame, by_key=True),
        charts.volume_bars(transforms.volume_long(frame)),
        charts.topic_heatmap(frame, timedelta(minutes=1)),
        charts.observed_vs_baseline(frame, "negative_share", 0.2),
        charts.count_bars(frame, category="key", count="volume"),
        charts.time_bars(frame, time="bucket", count="volume", bucket=timedelta(minutes=1)),
    ]
    for chart in specs:
        assert chart.to_dict()["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
