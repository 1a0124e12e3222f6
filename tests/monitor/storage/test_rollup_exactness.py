"""On a real PostgreSQL: every rollup resolution sums exactly to the documents after batches,
replays and retention, and the queries that pick a resolution answer as the minute rows do."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from monitor.storage import queries
from monitor.storage.backfill import backfill_rollups
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.ingest import write_batch
from monitor.storage.queries import TimeRange
from monitor.storage.resolution import ORIGIN, ceil
from monitor.storage.retention import Cutoffs, prune
from monitor.storage.rollup_models import RollupState
from monitor.storage.rollup_tables import SERIES
from monitor.storage.settings import MonitorSettings
from tests.monitor.storage.rollup_checks import (
    assert_ingest_exact,
    assert_rollups_exact,
    expected_series,
    scored,
    series_rows,
)

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
SPAN = timedelta(days=3)


@pytest.fixture
def engine(database: MonitorSettings) -> Iterator[Engine]:
    engine = make_engine(database)
    yield engine
    engine.dispose()


def test_batches_and_a_replay_keep_every_resolution_exact(engine: Engine) -> None:
    rng = random.Random(14)
    first, second = scored(rng, 400, START, SPAN), scored(rng, 300, START, SPAN)
    assert write_batch(engine, first, []).new_documents == 400
    assert_rollups_exact(engine)
    before = {t.name: series_rows(engine, t) for t in SERIES}

    replay = write_batch(engine, first[100:] + first[:50], [])
    assert (replay.new_documents, replay.minute_rows) == (0, 0)
    assert {t.name: series_rows(engine, t) for t in SERIES} == before

    # Half old, half new: only the new half is counted.
    assert write_batch(engine, second + first[:200], []).new_documents == 300
    assert_rollups_exact(engine)


def test_after_retention_the_whole_buckets_left_are_exact(
    engine: Engine, database: MonitorSettings
) -> None:
    rng = random.Random(7)
    for _ in range(3):
        write_batch(engine, scored(rng, 300, START, SPAN), [])
    cutoff = START + timedelta(days=1, hours=2, minutes=30, seconds=20)
    sessions = make_sessionmaker(engine)
    report = prune(sessions, Cutoffs(documents=cutoff, series=cutoff, outbox=None), batch_rows=50)
    assert report.complete and report.rows("documents") > 0 and report.rows("sentiment_day") > 0

    for table in SERIES:
        rows = series_rows(engine, table)
        # Nothing wholly older than the cutoff is left; a bucket across it stays whole.
        assert all(r[2] + table.step > cutoff for r in rows), table.name
        whole = ceil(cutoff, table.step)
        assert {r for r in rows if r[2] >= whole} == {
            r for r in expected_series(engine, table.step) if r[2] >= whole
        }, table.name
    # The ingest counters lost exactly the deleted documents.
    assert_ingest_exact(engine, times=False)
    with Session(engine) as session:
        status = queries.pipeline_status(session=session)
        assert status.documents == sum(m.documents for m in queries.model_usage(session=session))
    with engine.connect() as conn:
        assert status.documents == conn.scalar(text("select count(*) from documents"))


def _minute_series(
    engine: Engine, dimension: str, window: TimeRange, bucket: timedelta
) -> list[tuple[object, ...]]:
    """The series as the minute rows alone give it (the query before the rollups)."""
    query = text(
        "select key, date_bin(:bucket, minute, :origin) as b, sum(n_negative), sum(n_neutral), "
        "sum(n_positive), sum(score_sum) from sentiment_minute where dimension = :dimension "
        "and minute >= :since and minute < :until group by key, b order by b, key"
    )
    params = {"bucket": bucket, "origin": ORIGIN, "dimension": dimension}
    with engine.connect() as conn:
        rows = conn.execute(query, {**params, "since": window.since, "until": window.until})
        return [tuple(r) for r in rows]


BUCKETS = [timedelta(minutes=m) for m in (1, 5, 60, 120, 180, 1440)]
BUCKETS += [timedelta(days=2), timedelta(days=14)]


def test_resolution_picking_queries_equal_the_minute_answers(engine: Engine) -> None:
    rng = random.Random(2026)
    # Four weeks of documents: ranges of hours to weeks read every resolution.
    long = timedelta(days=28)
    write_batch(engine, scored(rng, 1500, START, long), [])
    seconds = int(long.total_seconds())
    with Session(engine) as session:
        for _ in range(60):
            a = START - timedelta(hours=2) + timedelta(seconds=rng.randrange(seconds))
            span = timedelta(seconds=rng.randrange(60, rng.choice((80 * 3600, seconds))))
            window = TimeRange(a, a + span)
            bucket = rng.choice(BUCKETS)
            dimension = rng.choice(("all", "topic", "ticker"))
            got = queries.sentiment_series(
                session=session, dimension=dimension, time_range=window, bucket=bucket
            )
            want = _minute_series(engine, dimension, window, bucket)
            assert [
                (p.key, p.bucket, p.n_negative, p.n_neutral, p.n_positive, p.score_sum) for p in got
            ] == want, (window, bucket, dimension)
            top = queries.top_keys(session=session, dimension=dimension, time_range=window)
            volumes: dict[str, int] = {}
            for key, _, neg, neu, pos, _ in _minute_series(engine, dimension, window, 1000 * DAY):
                volumes[str(key)] = int(neg) + int(neu) + int(pos)
            assert [(k.key, k.volume) for k in top] == sorted(
                volumes.items(), key=lambda kv: (-kv[1], kv[0])
            )
            if dimension == "all":
                n = queries.documents_in(session=session, time_range=window)
                assert n == sum(volumes.values())


DAY = timedelta(days=1)


def test_ingest_series_and_totals_equal_the_documents(engine: Engine) -> None:
    rng = random.Random(5)
    write_batch(engine, scored(rng, 600, START, SPAN), [])
    # Spread the processing times over three days, then count them afresh.
    with engine.begin() as conn:
        conn.execute(
            text(
                "update documents set ingested_at = :start + "
                "(abs(hashtext(id)) % 259200) * interval '1 second'"
            ),
            {"start": START},
        )
    backfill_rollups(engine)
    assert_rollups_exact(engine)
    with Session(engine) as session:
        complete = _ingest_answers(session, random.Random(99))
        totals = (queries.pipeline_status(session=session), queries.model_usage(session=session))
    with engine.begin() as conn:
        conn.execute(delete(RollupState))  # the scan of documents, as before the rollups
    with Session(engine) as session:
        assert _ingest_answers(session, random.Random(99)) == complete
        assert queries.pipeline_status(session=session) == totals[0]
        assert queries.model_usage(session=session) == totals[1]
    assert totals[0].documents == 600


def _ingest_answers(session: Session, rng: random.Random) -> list[list[tuple[str, int]]]:
    answers = []
    for _ in range(40):
        since = START + timedelta(minutes=rng.randrange(-120, 3 * 24 * 60))
        window = TimeRange(since, since + timedelta(minutes=rng.randrange(1, 3 * 24 * 60)))
        rows = queries.ingest_series(session=session, time_range=window, bucket=rng.choice(BUCKETS))
        answers.append([(r.key, r.volume) for r in rows])
    assert any(answers)
    return answers
