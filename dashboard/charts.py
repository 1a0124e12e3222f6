"""Altair chart builders: frames in, charts out; no Streamlit, no database."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd

from dashboard.transforms import SENTIMENTS, TOPICS

SENTIMENT_COLORS = alt.Scale(domain=list(SENTIMENTS), range=["#d62728", "#9e9e9e", "#2ca02c"])
_INDEX_SCALE = alt.Scale(domain=[-1, 1])
# Times are UTC, like the range caption, in 24-hour form; midnight ticks show the date instead.
_UTC_LABEL = (
    "utchours(datum.value) == 0 && utcminutes(datum.value) == 0"
    " ? utcFormat(datum.value, '%b %d') : utcFormat(datum.value, '%H:%M')"
)


def _time_x(field: str) -> alt.X:
    return alt.X(
        f"{field}:T",
        title=None,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(labelExpr=_UTC_LABEL),
    )


_TIME = _time_x("bucket")


def index_line(series: pd.DataFrame, *, by_key: bool = False) -> alt.Chart:
    """The sentiment index (mean score, -1..1) over time; one line per key when `by_key`."""
    encoding = {
        "x": _TIME,
        "y": alt.Y("index:Q", title="sentiment index", scale=_INDEX_SCALE),
        "tooltip": ["bucket:T", "key:N", alt.Tooltip("index:Q", format=".3f"), "volume:Q"],
    }
    if by_key:
        encoding["color"] = alt.Color("key:N", title=None)
    line = alt.Chart(series).mark_line(point=True).encode(**encoding)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(y="y:Q")
    return (zero + line).properties(height=260)  # type: ignore[no-any-return]


def volume_bars(volume_long: pd.DataFrame) -> alt.Chart:
    """Items per bucket, stacked by sentiment class."""
    return (  # type: ignore[no-any-return]
        alt.Chart(volume_long)
        .mark_bar()
        .encode(
            x=_TIME,
            y=alt.Y("sum(items):Q", title="items"),
            color=alt.Color("sentiment:N", scale=SENTIMENT_COLORS, title=None),
            tooltip=["bucket:T", "sentiment:N", "items:Q"],
        )
        .properties(height=180)
    )


def topic_heatmap(series: pd.DataFrame, bucket: timedelta) -> alt.Chart:
    """Sentiment index by topic (rows, all 20 in taxonomy order) and time bucket (columns)."""
    cells = series.assign(end=series["bucket"] + bucket)
    return (  # type: ignore[no-any-return]
        alt.Chart(cells)
        .mark_rect()
        .encode(
            x=_TIME,
            x2="end:T",
            y=alt.Y(
                "key:N",
                title=None,
                sort=list(TOPICS),
                scale=alt.Scale(domain=list(TOPICS)),
                axis=alt.Axis(labelOverlap=False, labelLimit=200),
            ),
            color=alt.Color(
                "index:Q", title="index", scale=alt.Scale(scheme="redyellowgreen", domain=[-1, 1])
            ),
            tooltip=["key:N", "bucket:T", alt.Tooltip("index:Q", format=".3f"), "volume:Q"],
        )
        .properties(height=24 * len(TOPICS))
    )


def alert_timeline(alerts: pd.DataFrame) -> alt.Chart:
    """Each episode as a bar from start to resolution (or now), one row per subject."""
    return (  # type: ignore[no-any-return]
        alt.Chart(alerts)
        .mark_bar(height=14)
        .encode(
            x=_time_x("started"),
            x2="ended:T",
            y=alt.Y("subject:N", title=None),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=["firing", "resolved"], range=["#d62728", "#7f7f7f"]),
            ),
            tooltip=["id:Q", "subject:N", "rule:N", "status:N", "started:T", "ended:T"],
        )
        .properties(height=max(80, 28 * alerts["subject"].nunique()))
    )


def observed_vs_baseline(series: pd.DataFrame, metric: str, baseline: float) -> alt.Chart:
    """The alert's series (negative share or index) with its baseline as a dashed rule."""
    column = "negative_share" if "negative" in metric else "index"
    line = (
        alt.Chart(series)
        .mark_line(point=True, color="#d62728")
        .encode(x=_TIME, y=alt.Y(f"{column}:Q", title=column.replace("_", " ")))
    )
    rule = (
        alt.Chart(pd.DataFrame({"baseline": [baseline]}))
        .mark_rule(strokeDash=[6, 3])
        .encode(y="baseline:Q")
    )
    return (line + rule).properties(height=240)  # type: ignore[no-any-return]


def count_bars(frame: pd.DataFrame, *, category: str, count: str) -> alt.Chart:
    """Horizontal bars of `count` per `category`, largest first."""
    return (  # type: ignore[no-any-return]
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None, sort="-x"),
            x=alt.X(f"{count}:Q", title=count),
            tooltip=[category, count],
        )
        .properties(height=alt.Step(22))
    )


def time_bars(frame: pd.DataFrame, *, time: str, count: str, bucket: timedelta) -> alt.Chart:
    """`count` per time bucket, each bar as wide as its bucket."""
    bars = frame.assign(end=frame[time] + bucket)
    return (  # type: ignore[no-any-return]
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=_time_x(time),
            x2="end:T",
            y=alt.Y(f"{count}:Q", title=count),
            y2=alt.datum(0),
            tooltip=[alt.Tooltip(f"{time}:T", format="%Y-%m-%d %H:%M", formatType="utc"), count],
        )
        .properties(height=200)
    )
