"""The alerter's daily prune on a real PostgreSQL: the rules' series floor, due once a day,
resumed slice by slice, stamped only when a run finishes, one log line when a batch fails."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerting.retention_job import (
    RETENTION_CURSOR,
    RetentionJob,
    last_run,
    prune_now,
    series_floor,
)
from monitor.alerting.rules import Rule
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.models import AlertCursor, Document
from monitor.storage.retention import RetentionPolicy
from monitor.storage.rollup_models import SentimentMinute
from monitor.storage.settings import MonitorSettings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = RetentionPolicy(documents=30 * DAY, series=30 * DAY, batch_rows=2)


REFUSE_DELETES = """
create function refuse() returns trigger language plpgsql as
  $$ begin raise exception 'no deletes here'; end $$;
create trigger refuse before delete on documents for each row execute function refuse();
"""


def rule(name: str, **overrides: object) -> Rule:
    return Rule.model_validate({"name": name, "scope": "all"} | overrides)


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sessions(database: MonitorSettings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database)
    yield make_sessionmaker(engine)
    engine.dispose()


def add_documents(sessions: sessionmaker[Session], ages_days: list[int]) -> None:
    with sessions.begin() as session:
        for age in ages_days:
            session.add(
                Document(
                    id=f"doc-{age}",
                    published_at=NOW - age * DAY,
                    source="wire",
                    headline="h",
                    tickers=[],
                    topic_id=0,
                    topic="Earnings",
                    topic_confidence=0.9,
                    sentiment="neutral",
                    p_negative=0.1,
                    p_neutral=0.8,
                    p_positive=0.1,
                    score=0.0,
                    model="test",
                )
            )


def count(sessions: sessionmaker[Session], model: type[Document] | type[SentimentMinute]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def stamped(sessions: sessionmaker[Session]) -> datetime | None:
    with sessions() as session:
        return last_run(session=session)


def test_the_floor_is_the_laggiest_cursor_less_its_rules_history(
    sessions: sessionmaker[Session],
) -> None:
    short = rule("short", window_minutes=5, baseline_windows=12, min_baseline_windows=3)
    long = rule("long", window_minutes=60, baseline_windows=48)
    with sessions() as session:
        assert series_floor(session=session, rules=[], now=NOW) is None
        # No cursors yet: each rule counts from now; the longest history wins.
        assert series_floor(session=session, rules=[short, long], now=NOW) == NOW - 49 * timedelta(
            hours=1
        )
    with sessions.begin() as session:
        session.add(AlertCursor(rule="short", evaluated_through=NOW - 10 * DAY))
        session.add(AlertCursor(rule="long", evaluated_through=NOW - DAY))
    with sessions() as session:
        floor = series_floor(session=session, rules=[short, long], now=NOW)
    # short: 10 days behind, less 13 windows of 5 minutes; long: 1 day behind, less 49 hours.
    assert floor == NOW - 10 * DAY - 13 * timedelta(minutes=5)


def test_prune_now_holds_the_series_back_for_a_lagging_rule(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        for days in (60, 45, 35):
            session.add(SentimentMinute(dimension="all", key="", minute=NOW - days * DAY))
        session.add(AlertCursor(rule="lagging", evaluated_through=NOW - 40 * DAY))
    report = prune_now(sessions, POLICY, [rule("lagging", window_minutes=60)], now=NOW)
    # The rule still reads from 40 days back less 161 hours: only the 60-day-old minute goes.
    assert report.rows("sentiment_minute") == 1
    assert count(sessions, SentimentMinute) == 2


def test_due_once_a_day_and_stamped_when_a_run_finishes(sessions: sessionmaker[Session]) -> None:
    add_documents(sessions, [40, 35, 31, 1])
    clock = FakeClock()
    job = RetentionJob(sessions, POLICY, [], clock=clock)

    done = job.run_due(NOW)
    assert done is not None and done.rows("documents") == 3
    assert stamped(sessions) == NOW
    assert count(sessions, Document) == 1

    add_documents(sessions, [50])
    clock.now += 3600  # past any idle wait, but the day is not over
    assert job.run_due(NOW + timedelta(hours=1)) is None
    assert count(sessions, Document) == 2

    # A new leader (a new job) reads the stamp too.
    again = RetentionJob(sessions, POLICY, [], clock=clock)
    assert again.run_due(NOW + timedelta(hours=23)) is None
    clock.now += 3 * 86400
    done = again.run_due(NOW + DAY + timedelta(minutes=1))
    assert done is not None and done.rows("documents") == 1
    assert stamped(sessions) == NOW + DAY + timedelta(minutes=1)


def test_a_run_goes_in_slices_and_is_stamped_at_the_end(sessions: sessionmaker[Session]) -> None:
    add_documents(sessions, [40, 39, 38, 37, 36])
    clock = FakeClock()
    job = RetentionJob(sessions, POLICY, [], slice_s=0.0, clock=clock)

    slices = 0
    done = None
    while done is None:
        slices += 1
        assert slices < 10
        done = job.run_due(NOW)
        if done is None:
            assert stamped(sessions) is None  # not finished, not stamped
    assert slices == 4  # 2, 2 and 1 rows, then a slice that finds nothing more
    assert done.rows("documents") == 5
    assert stamped(sessions) == NOW


def test_a_failing_prune_logs_one_line_and_stamps_nothing(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    add_documents(sessions, [40, 39])
    with sessions.begin() as session:  # a database that refuses deletes, for this test only
        session.execute(text(REFUSE_DELETES))
    job = RetentionJob(sessions, POLICY, [], clock=FakeClock())
    with caplog.at_level(logging.WARNING, logger="monitor.alerting.retention_job"):
        assert job.run_due(NOW) is None
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.alerting.retention_job"]
    assert len(lines) == 1
    assert lines[0].startswith("retention: pruning documents failed after deleting 0 rows")
    assert "no deletes here" in lines[0]
    assert stamped(sessions) is None
    assert count(sessions, Document) == 2


def test_retention_off_does_nothing(sessions: sessionmaker[Session]) -> None:
    add_documents(sessions, [400])
    job = RetentionJob(sessions, RetentionPolicy(), [], clock=FakeClock())
    assert job.run_due(NOW) is None
    assert count(sessions, Document) == 1
    with sessions() as session:
        assert session.get(AlertCursor, RETENTION_CURSOR) is None
