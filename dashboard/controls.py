"""Widgets and helpers the pages share: the time-range picker and the live-refresh interval."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard import data, transforms
from monitor.storage.queries import TimeRange
from monitor.storage.reading import StoreUnreadable

RANGE_KEY = "range"
ALERT_PARAM = "alert"  # `?alert=ID` opens one alert on the Alerts page


def range_picker() -> None:
    """The sidebar's time range; the entry script draws it so it survives page switches."""
    labels = list(transforms.RANGES)
    st.sidebar.selectbox(
        "Time range",
        labels,
        index=labels.index(transforms.DEFAULT_RANGE),
        key=RANGE_KEY,
        help="Event time, ending at the newest item.",
    )


def span() -> timedelta:
    label = st.session_state.get(RANGE_KEY, transforms.DEFAULT_RANGE)
    return transforms.RANGES.get(label, transforms.RANGES[transforms.DEFAULT_RANGE])


def time_range() -> TimeRange:
    """The chosen span, ending at the newest data; call it inside a fragment so it moves."""
    now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return data.current_range(span(), now)


def refresh_every() -> timedelta:
    return timedelta(seconds=data.settings().dashboard_refresh_s)


def live(body: Callable[[], None]) -> Callable[[], None]:
    """`body` as a fragment that reruns by itself every few seconds, without a page reload.

    A database problem shows as one error line instead of a traceback, and clears by itself once
    the database answers again.
    """

    @st.fragment(run_every=refresh_every())
    def run() -> None:
        try:
            body()
        except StoreUnreadable as e:
            st.error(str(e), icon=":material/database:")

    return run


def caption(window: TimeRange) -> None:
    st.caption(
        f"{window.since:%Y-%m-%d %H:%M} – {window.until:%Y-%m-%d %H:%M} UTC · "
        f"refreshes every {data.settings().dashboard_refresh_s:g}s"
    )


def fmt(value: float | None, spec: str = "+.3f") -> str:
    return "–" if value is None else format(value, spec)


def linked_alert() -> int | None:
    """The alert id in the page's URL (`?alert=ID`), if any and well-formed."""
    value = st.query_params.get(ALERT_PARAM, "")
    return int(value) if value.isdigit() else None
