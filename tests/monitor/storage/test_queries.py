"""The dashboard's read-only queries against a seeded database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from monitor.storage import alert_queries, queries
from monitor.storage.db import make_engine
from monitor.storage.queries import TimeRange
from monitor.storage.settings import MonitorSettings
from tests.dashboard.dashboard_seed import END, MINUTES, add_minute, seed

pytestmark = pytest.mark.integration

ALL_TIME = TimeRange(END - timedelta(days=1), END + timedelta(days=1))
LAST_HOUR = TimeRange(END - timedelta(hours=1), END)


@pytest.fixture
def session(database: MonitorSettings) -> Iterator[Session]:
    seed(database)
    engine = make_engine(database)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_latest_minute_and_series_buckets(session: Session) -> None:
    assert queries.latest_minute(session=session) == END - timedelta(minutes=1)
    points = queries.sentiment_series(
        session=session, dimension="all", time_range=LAST_HOUR, bucket=timedelta(minutes=10)
    )
    assert len(points) == 6
    assert all(p.n_negative + p.n_neutral + p.n_positive == 40 for p in points)
    assert [p.bucket for p in points] == sorted(p.bucket for p in points)


def test_series_for_chosen_keys_only(session: Session) -> None:
    points = queries.sentiment_series(
        session=session,
        dimension="topic",
        time_range=ALL_TIME,
        bucket=timedelta(hours=1),
        keys=("Earnings",),
    )
    assert {p.key for p in points} == {"Earnings"}


def test_top_keys_busiest_first_and_filtered(session: Session) -> None:
    tickers = queries.top_keys(session=session, dimension="ticker", time_range=ALL_TIME)
    assert sum(t.volume for t in tickers) == MINUTES * 4
    assert tickers == sorted(tickers, key=lambda t: (-t.volume, t.key))
    found = queries.top_keys(session=session, dimension="ticker", time_range=ALL_TIME, contains="w")
    assert [t.key for t in found] == ["NWF"]


def test_alerts_deliveries_and_driving_headlines(session: Session) -> None:
    firing = alert_queries.alerts(session=session, status="firing")
    assert [(a.dimension, a.key) for a in firing] == [("topic", "Earnings")]
    recent = alert_queries.alerts(
        session=session, time_range=TimeRange(END - timedelta(minutes=30), END)
    )
    assert [a.status for a in recent] == ["firing"]
    assert len(alert_queries.alerts(session=session, time_range=ALL_TIME)) == 2
    deliveries = alert_queries.deliveries(session=session, alert_id=firing[0].id)
    assert [d.attempts for d in deliveries] == [1, 3]
    drivers = alert_queries.headlines_by_id(session=session, ids=firing[0].document_ids)
    assert len(drivers) == 8 and all(h.sentiment == "negative" for h in drivers)
    assert alert_queries.alert(session=session, alert_id=10_000) is None


def test_pipeline_figures(session: Session, database: MonitorSettings) -> None:
    add_minute(database, END, items=3)
    status = queries.pipeline_status(session=session)
    assert (status.documents, status.rejected) == (MINUTES * 4 + 3, 4)
    assert [(m.model, m.documents) for m in queries.model_usage(session=session)] == [
        ("finsent-minilm 1.0.0", MINUTES * 4 + 3)
    ]
    reasons = queries.rejected_by_reason(session=session, time_range=ALL_TIME)
    assert [(r.key, r.volume) for r in reasons][0] == ("not_json", 2)
    rate = queries.ingest_series(session=session, time_range=ALL_TIME, bucket=timedelta(hours=1))
    assert sum(r.volume for r in rate) == MINUTES * 4
