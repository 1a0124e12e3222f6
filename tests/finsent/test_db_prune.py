"""`finsent db prune [--dry-run]` as a user runs it: one line per table, what went or would go."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from finsent.commands.prune import report_lines
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.models import Document
from monitor.storage.retention import PruneReport, RetentionPolicy, TableCount
from monitor.storage.rollup_models import SentimentMinute
from monitor.storage.settings import MonitorSettings
from tests.finsent.test_cli import run
from tests.monitor.storage.test_retention import document

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
# "2026-11-01 12:00 UTC": what a cutoff looks like in a line.
WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"


def test_report_lines_name_the_setting_of_what_is_kept() -> None:
    policy = RetentionPolicy(documents=30 * DAY, series=DAY)
    cut = NOW - 30 * DAY
    report = PruneReport(
        (
            TableCount("documents", cut, 1234, 3),
            TableCount("sentiment_minute", NOW - 3 * DAY, 10, 1),
            TableCount("alert_deliveries", None),
        ),
        dry_run=False,
        complete=True,
    )
    assert report_lines(report, policy, NOW) == [
        "documents: deleted 1,234 rows in 3 batches, published before 2026-11-01 12:00 UTC",
        "sentiment_minute: deleted 10 rows in 1 batch, minutes before 2026-11-28 12:00 UTC; "
        "older minutes kept for the alert rules' baselines",
        "alert_deliveries: kept, FINSENT_OUTBOX_RETENTION_DAYS is 0 (keep everything)",
    ]
    dry = PruneReport((TableCount("documents", cut, 7),), dry_run=True, complete=True)
    assert report_lines(dry, policy, NOW) == [
        "documents: would delete 7 rows, published before 2026-11-01 12:00 UTC"
    ]


def _count(settings: MonitorSettings, model: type[Document] | type[SentimentMinute]) -> int:
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


@pytest.mark.integration
def test_prune_dry_run_then_prune(database: MonitorSettings) -> None:
    now = datetime.now(UTC)  # the command prunes relative to the clock
    engine = make_engine(database)
    with make_sessionmaker(engine).begin() as session:
        for i, age in enumerate((40, 35, 31, 2)):
            session.add(document(f"doc-{i}", now - age * DAY))
        session.add(SentimentMinute(dimension="all", key="", minute=now - 400 * DAY))
    engine.dispose()
    env = {
        "FINSENT_DATABASE_URL": database.sqlalchemy_url,
        "FINSENT_RETENTION_DAYS": "30",
        "FINSENT_SERIES_RETENTION_DAYS": "0",
        "FINSENT_OUTBOX_RETENTION_DAYS": "7",
        "FINSENT_RETENTION_BATCH_ROWS": "2",
    }

    dry = run("db", "prune", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert re.fullmatch(rf"documents: would delete 3 rows, published before {WHEN}", lines[0])
    assert re.fullmatch(rf"rejected_records: would delete 0 rows, received before {WHEN}", lines[1])
    assert lines[2:6] == [
        f"{table}: kept, FINSENT_SERIES_RETENTION_DAYS is 0 (keep everything)"
        for table in ("sentiment_minute", "sentiment_hour", "sentiment_day", "sentiment_week")
    ]
    assert lines[6].startswith("alert_deliveries: would delete 0 rows, finished before ")
    assert len(lines) == 7
    assert _count(database, Document) == 4

    done = run("db", "prune", env=env)
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert re.fullmatch(rf"documents: deleted 3 rows in 2 batches, published before {WHEN}", first)
    assert _count(database, Document) == 1
    assert _count(database, SentimentMinute) == 1

    again = run("db", "prune", env=env)
    assert again.stdout.splitlines()[0].startswith("documents: deleted 0 rows in 1 batch,")


@pytest.mark.integration
def test_a_negative_retention_is_one_line_naming_the_setting() -> None:
    result = run("db", "prune", env={"FINSENT_RETENTION_DAYS": "-1"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: FINSENT_RETENTION_DAYS: Input should be greater than or equal to 0 (got '-1')"
    ]
