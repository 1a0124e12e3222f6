"""The dashboard's only door to the database: one cached engine, briefly cached queries.

Every query goes through `monitor.storage`'s read API (bound parameters only).
Arguments are plain values so Streamlit can hash them; results are frames or frozen rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dashboard import transforms
from dashboard.settings import DashboardSettings
from monitor.storage import alert_queries, headline_queries, queries
from monitor.storage.headline_queries import HeadlineCount, HeadlineCursor, HeadlineFilter
from monitor.storage.queries import ModelUsage, PipelineStatus, TimeRange
from monitor.storage.reading import read_engine, read_session
from monitor.storage.records import AlertRecord

# Shorter than the refresh interval, so each refresh reads fresh rows, yet reruns in between
# (widget changes, several charts on a page) share one query.
CACHE_TTL_S = 3.0


@st.cache_resource(show_spinner=False)
def settings() -> DashboardSettings:
    """Read once per process (the tests clear Streamlit's caches to point it elsewhere)."""
    return DashboardSettings()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return read_engine(url)


@contextmanager
def _session() -> Iterator[Session]:
    """A read session; driver errors become `StoreUnreadable` with what to do about them."""
    with read_session(_engine(settings().read_url)) as session:
        yield session


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def current_range(span: timedelta, now: datetime) -> TimeRange:
    """`span` of event time ending at the newest data; `now` only when the database is empty."""
    with _session() as session:
        latest = queries.latest_minute(session=session)
    return transforms.time_range_ending(latest, span, now)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def series(
    dimension: str,
    since: datetime,
    until: datetime,
    bucket: timedelta,
    keys: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    with _session() as session:
        points = queries.sentiment_series(
            session=session,
            dimension=dimension,
            time_range=TimeRange(since, until),
            bucket=bucket,
            keys=keys,
        )
    return transforms.series_frame(points)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def top_keys(
    dimension: str, since: datetime, until: datetime, contains: str = "", limit: int = 50
) -> pd.DataFrame:
    with _session() as session:
        rows = queries.top_keys(
            session=session,
            dimension=dimension,
            time_range=TimeRange(since, until),
            contains=contains,
            limit=limit,
        )
    return pd.DataFrame([(r.key, r.volume) for r in rows], columns=["key", "items"])


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def headline_page(
    flt: HeadlineFilter, limit: int, after: HeadlineCursor | None = None
) -> tuple[pd.DataFrame, HeadlineCursor | None]:
    """One page of matches, newest first, after `after`; and where the next page starts."""
    with _session() as session:
        page = headline_queries.headlines(session=session, flt=flt, limit=limit, after=after)
    return transforms.headlines_frame(page.rows), page.next


def headlines(flt: HeadlineFilter, limit: int) -> pd.DataFrame:
    """The newest `limit` items matching `flt`."""
    return headline_page(flt, limit)[0]


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def count_headlines(flt: HeadlineFilter) -> HeadlineCount:
    with _session() as session:
        return headline_queries.count_headlines(session=session, flt=flt)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def headlines_by_id(ids: tuple[str, ...]) -> pd.DataFrame:
    with _session() as session:
        return transforms.headlines_frame(alert_queries.headlines_by_id(session=session, ids=ids))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def alerts(since: datetime | None, until: datetime | None, firing_only: bool) -> list[AlertRecord]:
    window = TimeRange(since, until) if since and until else None
    with _session() as session:
        status = "firing" if firing_only else None
        return alert_queries.alerts(session=session, time_range=window, status=status)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def alert(alert_id: int) -> list[AlertRecord]:
    """The one alert with this id, as a list (empty when there is none)."""
    with _session() as session:
        found = alert_queries.alert(session=session, alert_id=alert_id)
    return [found] if found is not None else []


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def deliveries(alert_id: int) -> pd.DataFrame:
    with _session() as session:
        rows = alert_queries.deliveries(session=session, alert_id=alert_id)
    return transforms.deliveries_frame(rows)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def ingest_rate(since: datetime, until: datetime, bucket: timedelta) -> pd.DataFrame:
    with _session() as session:
        rows = queries.ingest_series(
            session=session, time_range=TimeRange(since, until), bucket=bucket
        )
    frame = pd.DataFrame([(r.key, r.volume) for r in rows], columns=["minute", "items"])
    frame["minute"] = pd.to_datetime(frame["minute"], utc=True)
    return frame


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def rejected(since: datetime, until: datetime) -> pd.DataFrame:
    with _session() as session:
        rows = queries.rejected_by_reason(session=session, time_range=TimeRange(since, until))
    return pd.DataFrame([(r.key, r.volume) for r in rows], columns=["reason", "records"])


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def history_start() -> datetime | None:
    """Since when items are kept (retention deletes older ones); None for an empty database."""
    with _session() as session:
        return queries.history_start(session=session)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def pipeline() -> tuple[PipelineStatus, list[ModelUsage]]:
    with _session() as session:
        return queries.pipeline_status(session=session), queries.model_usage(session=session)
