"""`finsent db prune`: delete what the retention settings no longer keep, batch by batch."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from monitor.alerting.retention_job import prune_now
from monitor.alerting.rules import load_rules
from monitor.alerting.settings import AlertSettings
from monitor.storage.db import check_connection, describe, make_engine, make_sessionmaker
from monitor.storage.retention import PruneReport, RetentionPolicy, TableCount
from monitor.storage.settings import MonitorSettings

SETTING = {
    "documents": "FINSENT_RETENTION_DAYS",
    "rejected_records": "FINSENT_RETENTION_DAYS",
    "sentiment_minute": "FINSENT_SERIES_RETENTION_DAYS",
    "sentiment_hour": "FINSENT_SERIES_RETENTION_DAYS",
    "sentiment_day": "FINSENT_SERIES_RETENTION_DAYS",
    "sentiment_week": "FINSENT_SERIES_RETENTION_DAYS",
    "alert_deliveries": "FINSENT_OUTBOX_RETENTION_DAYS",
}
WHAT = {
    "documents": "published",
    "rejected_records": "received",
    "sentiment_minute": "minutes",
    "sentiment_hour": "whole hours",
    "sentiment_day": "whole days",
    "sentiment_week": "whole weeks",
    "alert_deliveries": "finished",
}


def prune(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Count what would be deleted; delete nothing."
    ),
) -> None:
    """Delete rows older than the retention settings, oldest first, in short transactions.

    FINSENT_RETENTION_DAYS: documents and rejected records; FINSENT_SERIES_RETENTION_DAYS:
    the minute, hour, day and week series (kept as far back as the alert rules' baselines need;
    an hour, day or week goes once all of it is older);
    FINSENT_OUTBOX_RETENTION_DAYS: delivered or given-up webhook deliveries. 0 keeps everything.
    Documents an open alert shows are kept. The alerter's leader runs this once a day.
    """
    settings = MonitorSettings()
    policy = RetentionPolicy.of(settings)
    rules = load_rules(AlertSettings().rules)
    now = datetime.now(UTC)
    engine = make_engine(settings)
    try:
        check_connection(engine)
        typer.echo(f"database: {describe(engine)}", err=True)
        report = prune_now(make_sessionmaker(engine), policy, rules, now=now, dry_run=dry_run)
    finally:
        engine.dispose()
    for line in report_lines(report, policy, now):
        typer.echo(line)


def report_lines(report: PruneReport, policy: RetentionPolicy, now: datetime) -> list[str]:
    """One line per table: what was (or would be) deleted, or which setting keeps it all."""
    return [_line(t, policy, now, dry_run=report.dry_run) for t in report.tables]


def _line(count: TableCount, policy: RetentionPolicy, now: datetime, *, dry_run: bool) -> str:
    if count.cutoff is None:
        return f"{count.table}: kept, {SETTING[count.table]} is 0 (keep everything)"
    done = f"would delete {count.rows:,} rows" if dry_run else f"deleted {count.rows:,} rows"
    if not dry_run:
        done += f" in {count.batches} batch{'' if count.batches == 1 else 'es'}"
    line = f"{count.table}: {done}, {WHAT[count.table]} before {count.cutoff:%Y-%m-%d %H:%M} UTC"
    # The series cutoff is `now - series` unless the rules' floor held it back.
    held_back = policy.series is not None and count.cutoff < now - policy.series
    if count.table == "sentiment_minute" and held_back:
        line += "; older minutes kept for the alert rules' baselines"
    return line
