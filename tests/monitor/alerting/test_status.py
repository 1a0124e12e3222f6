"""The alerter's backlog numbers read from real rows: outbox states, and cursor lag behind the
watermark."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from monitor.alerting.rules import parse_rules
from monitor.alerting.status import OutboxBacklog, alerter_status
from monitor.storage.models import Alert, AlertCursor, AlertDelivery
from monitor.storage.settings import MonitorSettings
from tests.monitor.alerting.test_evaluator import RULES, T0, seed

pytestmark = pytest.mark.integration

(RULE,) = parse_rules(RULES, fmt="toml", source="test")
OTHER = RULE.model_copy(update={"name": "no-cursor-yet"})
NOW = T0 + timedelta(hours=1)
LATENESS = timedelta(seconds=60)


def _alert() -> Alert:
    return Alert(
        rule=RULE.name,
        dimension="topic",
        key="Earnings",
        status="firing",
        started_at=T0,
        window_start=T0,
        window_end=T0 + timedelta(minutes=5),
        metric="negative_share",
        observed=30,
        expected=10,
        baseline=0.25,
        deviation=6,
        volume=40,
    )


def _delivery(alert: Alert, n: int, created_ago_s: float, **state: object) -> AlertDelivery:
    return AlertDelivery(
        alert_id=alert.id,
        event="firing",
        endpoint=f"http://127.0.0.1:1/hook{n}",
        webhook_id=f"msg_{n}",
        payload={},
        created_at=NOW - timedelta(seconds=created_ago_s),
        **state,
    )


def test_an_empty_database_has_no_backlog_and_no_lag(database: MonitorSettings) -> None:
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    with Session(engine) as session:
        status = alerter_status(session=session, rules=[RULE], lateness=LATENESS, now=NOW)
    engine.dispose()
    assert status.outbox == OutboxBacklog(0, 0, 0.0)
    assert status.lag_s == {}


def test_backlog_counts_pending_and_given_up_and_ages_the_oldest_pending(
    database: MonitorSettings,
) -> None:
    seed(database, range(10))  # newest document at T0 + 9:49
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    with Session(engine) as session, session.begin():
        alert = _alert()
        session.add(alert)
        session.flush()
        session.add_all(
            [
                _delivery(alert, 1, 600, delivered_at=NOW),  # done with
                _delivery(alert, 2, 500, gave_up_at=NOW),  # given up
                _delivery(alert, 3, 120),  # pending, the oldest
                _delivery(alert, 4, 30),  # pending
                AlertCursor(rule=RULE.name, evaluated_through=T0 + timedelta(minutes=4)),
                AlertCursor(rule="not-configured", evaluated_through=T0),
            ]
        )
    with Session(engine) as session:
        status = alerter_status(session=session, rules=[RULE, OTHER], lateness=LATENESS, now=NOW)
    engine.dispose()
    assert status.outbox == OutboxBacklog(pending=2, given_up=1, oldest_pending_s=120.0)
    # Watermark 9:49 less a minute of lateness = 8:49; the cursor is at 4:00.
    assert status.lag_s == {RULE.name: 4 * 60 + 49.0}
