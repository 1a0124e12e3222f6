"""Rebuild the hour/day/week sentiment rollups and the ingest counters of a database that had
rows before migration 0005: from `sentiment_minute` and `documents`, one short transaction per
batch.

Each batch locks its source table in SHARE mode (readers go on; the worker waits for that batch
only), finds the next day (series) or hour (ingest) holding source rows, deletes the rollup rows
of the empty stretch before it, and replaces the rows of that day or hour with sums recomputed
from the source. So it is exact while the worker keeps writing, and running it again changes
nothing. The last step marks the rollups complete (`rollup_state`); from then on queries read them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, TextClause, text
from sqlalchemy.exc import DBAPIError

from monitor.exceptions import BackfillFailed
from monitor.storage.db import error_summary
from monitor.storage.models import DIMENSIONS
from monitor.storage.resolution import DAY, HOUR, ORIGIN, WEEK, floor
from monitor.storage.rollup_tables import BACKFILLED, mark_complete

# A week after the first representable day, so the start of its week is representable too.
FIRST = datetime(1, 1, 8, tzinfo=UTC)
LAST = datetime(9999, 12, 30, tzinfo=UTC)
# A batch waits this long at most for the worker's open transaction before it gives up.
LOCK_TIMEOUT = text("set local lock_timeout = '10s'")
_SERIES_COUNTS = (
    "sum(n_negative), sum(n_neutral), sum(n_positive), sum(score_sum) from sentiment_minute "
    "where dimension = :dimension and minute >= :since and minute < :until"
)
# Week rows are summed from the day rows, like the ingest days below from the hours.
_SERIES_WEEKS = (
    text(
        "delete from sentiment_week "
        "where dimension = :dimension and week >= :week_from and week < :week_until"
    ),
    text(
        "insert into sentiment_week (dimension, key, week, n_negative, n_neutral, n_positive, "
        "score_sum) select dimension, key, date_bin('7 days', day, :origin), sum(n_negative), "
        "sum(n_neutral), sum(n_positive), sum(score_sum) from sentiment_day "
        "where dimension = :dimension and day >= :week_from and day < :week_until "
        "group by dimension, key, 3"
    ),
)
_INGEST_DAYS = (
    text("delete from ingest_day where day >= :day_from and day < :day_until"),
    text(
        "insert into ingest_day (day, model, documents, last_ingested_at) "
        "select date_bin('1 day', hour, :origin), model, sum(documents), max(last_ingested_at) "
        "from ingest_hour where hour >= :day_from and hour < :day_until group by 1, model"
    ),
)


@dataclass(frozen=True, slots=True)
class _Source:
    """How to rebuild one family of rollups from its source, a `step` at a time."""

    lock: TextClause
    next_row: TextClause  # the first source time at or after :after
    step: timedelta
    clear: tuple[TextClause, ...]  # rollup rows in [:after, :since)
    rebuild: tuple[TextClause, ...]  # rollup rows of [:since, :until), from the source
    finish: tuple[TextClause, ...] = ()  # once the source has no rows left after :after


_SERIES = _Source(
    lock=text("lock table sentiment_minute in share mode"),
    next_row=text(
        "select min(minute) from sentiment_minute where dimension = :dimension and minute >= :after"
    ),
    step=DAY,
    clear=(
        text(
            "delete from sentiment_hour "
            "where dimension = :dimension and hour >= :after and hour < :since"
        ),
        text(
            "delete from sentiment_day "
            "where dimension = :dimension and day >= :after and day < :since"
        ),
    ),
    rebuild=(
        text(
            "delete from sentiment_hour "
            "where dimension = :dimension and hour >= :since and hour < :until"
        ),
        text("delete from sentiment_day where dimension = :dimension and day = :since"),
        text(
            "insert into sentiment_hour (dimension, key, hour, n_negative, n_neutral, "
            "n_positive, score_sum) select dimension, key, date_bin('1 hour', minute, :origin), "
            f"{_SERIES_COUNTS} group by dimension, key, 3"
        ),
        text(
            "insert into sentiment_day (dimension, key, day, n_negative, n_neutral, n_positive, "
            f"score_sum) select dimension, key, cast(:since as timestamptz), {_SERIES_COUNTS} "
            "group by dimension, key"
        ),
        *_SERIES_WEEKS,
    ),
    finish=_SERIES_WEEKS,
)
# Day rows are summed from the hour rows after each batch (and weeks from days): once the last
# batch has run, every hour (day) row is exact, and so is every day (week) row summed last.
_INGEST = _Source(
    lock=text("lock table documents in share mode"),
    next_row=text("select min(ingested_at) from documents where ingested_at >= :after"),
    step=HOUR,
    clear=(
        text("delete from ingest_minute where minute >= :after and minute < :since"),
        text("delete from ingest_hour where hour >= :after and hour < :since"),
    ),
    rebuild=(
        text("delete from ingest_minute where minute >= :since and minute < :until"),
        text("delete from ingest_hour where hour = :since"),
        text(
            "insert into ingest_minute (minute, model, documents, last_ingested_at) "
            "select date_bin('1 minute', ingested_at, :origin), model, count(*), "
            "max(ingested_at) from documents where ingested_at >= :since "
            "and ingested_at < :until group by 1, model"
        ),
        text(
            "insert into ingest_hour (hour, model, documents, last_ingested_at) "
            "select cast(:since as timestamptz), model, sum(documents), max(last_ingested_at) "
            "from ingest_minute where minute >= :since and minute < :until group by model"
        ),
        *_INGEST_DAYS,
    ),
    finish=_INGEST_DAYS,
)


@dataclass(frozen=True, slots=True)
class BackfillReport:
    """Batches that rebuilt rows: dimension-days of series, hours of ingest counters."""

    series_days: int
    ingest_hours: int


def backfill_rollups(
    engine: Engine, progress: Callable[[str], None] | None = None
) -> BackfillReport:
    """Rebuild every hour/day/week and ingest rollup row from the minute rows and documents."""
    say = progress or (lambda _: None)
    days = 0
    for dimension in DIMENSIONS:
        days += _rebuild(engine, _SERIES, {"dimension": dimension})
        say(f"sentiment_hour, _day, _week: dimension {dimension!r} rebuilt")
    hours = _rebuild(engine, _INGEST, {})
    say(f"ingest_minute, ingest_hour, ingest_day: {hours} hours rebuilt")
    with engine.begin() as connection:
        mark_complete(connection, BACKFILLED)
    return BackfillReport(days, hours)


def _rebuild(engine: Engine, source: _Source, params: dict[str, object]) -> int:
    """Batch after batch, oldest first, until the source has no rows left; the batch count."""
    after, batches = FIRST, 0
    while after < LAST:
        try:
            with engine.begin() as connection:
                after = _batch(connection, source, after, params)
        except DBAPIError as e:
            raise BackfillFailed(
                f"rebuilding the rollups from {after:%Y-%m-%d %H:%M} UTC failed and was rolled "
                f"back (earlier batches stay done; run the backfill again): {error_summary(e)}"
            ) from e
        batches += after < LAST
    return batches


def _batch(
    connection: Connection, source: _Source, after: datetime, params: dict[str, object]
) -> datetime:
    """One transaction: lock, clear the empty stretch, rebuild one step; where the next starts."""
    connection.execute(LOCK_TIMEOUT)
    connection.execute(source.lock)
    found = connection.scalar(source.next_row, {**params, "after": after})
    since = LAST if found is None else floor(found, source.step)
    until = LAST if found is None else since + source.step
    values = {
        **params,
        "after": after,
        "origin": ORIGIN,
        "since": since,
        "until": until,
        "day_from": floor(after, DAY),
        "day_until": LAST if found is None else floor(since, DAY) + DAY,
        "week_from": floor(after, WEEK),
        "week_until": LAST if found is None else floor(since, WEEK) + WEEK,
    }
    for statement in source.clear:
        connection.execute(statement, values)
    for statement in source.rebuild if found is not None else source.finish:
        connection.execute(statement, values)
    return until
