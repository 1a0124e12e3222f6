"""Migration 0005 on a database that already holds rows, and `finsent db backfill-rollups` on it:
until the backfill the queries answer from the minute rows and documents; after it the rollups
hold exactly the rows live maintenance would have written; downgrade removes what 0005 made."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from migrations import alembic_config
from monitor.storage import queries
from monitor.storage.ingest import write_batch
from monitor.storage.models import Document
from monitor.storage.queries import TimeRange
from monitor.storage.rollup_models import SentimentMinute
from monitor.storage.rollup_tables import INGEST, SERIES, rollups_complete
from monitor.storage.search_vectors import vectors_stored
from monitor.storage.settings import MonitorSettings
from tests.finsent.test_cli import run
from tests.monitor.storage.rollup_checks import (
    assert_rollups_exact,
    ingest_rows,
    scored,
    series_rows,
)

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
NEW_TABLES = {t.name for t in (*SERIES, *INGEST)} - {"sentiment_minute"} | {"rollup_state"}


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _engine(settings: MonitorSettings, engines: list[Engine]) -> Engine:
    engine = create_engine(settings.sqlalchemy_url, poolclass=NullPool)
    engines.append(engine)
    return engine


def _copy(source: Engine, target: Engine, model: type[Document] | type[SentimentMinute]) -> None:
    table = model.__table__
    # Only the columns the older schema has (`search_vector` came with 0007).
    known = {c["name"] for c in inspect(target).get_columns(table.name)}
    with source.connect() as conn:
        rows = [
            dict(r._mapping) for r in conn.execute(select(*(c for c in table.c if c.name in known)))
        ]
    with target.begin() as conn:
        conn.execute(table.insert(), rows)


def _rollups(engine: Engine) -> dict[str, object]:
    series = {t.name: series_rows(engine, t) for t in SERIES}
    return {**series, **{t.name: ingest_rows(engine, t) for t in INGEST}}


def _answers(engine: Engine) -> tuple[object, ...]:
    window = TimeRange(START - timedelta(hours=1), START + timedelta(days=4))
    with Session(engine) as session:
        return (
            queries.sentiment_series(
                session=session, dimension="topic", time_range=window, bucket=timedelta(days=1)
            ),
            queries.top_keys(session=session, dimension="ticker", time_range=window),
            queries.pipeline_status(session=session),
            queries.model_usage(session=session),
        )


def test_upgrade_backfill_and_downgrade_on_a_database_with_rows(
    make_database: Callable[..., MonitorSettings], engines: list[Engine]
) -> None:
    # What live maintenance writes: the reference.
    live = _engine(make_database(), engines)
    rng = random.Random(3)
    for _ in range(3):
        write_batch(live, scored(rng, 250, START, timedelta(days=3)), [])
    reference = _rollups(live)

    # The same documents and minute rows in a database still at 0004.
    old_settings = make_database(migrate=False)
    config = alembic_config(old_settings)
    command.upgrade(config, "0004")
    old = _engine(old_settings, engines)
    _copy(live, old, Document)
    _copy(live, old, SentimentMinute)

    command.upgrade(config, "head")
    assert NEW_TABLES <= set(inspect(old).get_table_names())
    assert "ix_documents_ingested_at" in {i["name"] for i in inspect(old).get_indexes("documents")}
    with Session(old) as session:
        assert not rollups_complete(session=session)
    assert _answers(old) == _answers(live)  # read from the minute rows and documents meanwhile

    env = {"FINSENT_DATABASE_URL": old_settings.sqlalchemy_url}
    for _ in range(2):  # safe to run again: the second run changes nothing
        done = run("db", "backfill-rollups", env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("rollups complete: ")
        assert _rollups(old) == reference
    assert_rollups_exact(old)
    with Session(old) as session:
        assert rollups_complete(session=session)
        assert vectors_stored(session=session)  # the same command fills the search vectors
    assert _answers(old) == _answers(live)

    command.downgrade(config, "0004")
    assert not NEW_TABLES & set(inspect(old).get_table_names())
    assert "ix_documents_ingested_at" not in {
        i["name"] for i in inspect(old).get_indexes("documents")
    }
    with old.connect() as conn:
        assert conn.scalar(text("select count(*) from documents")) == 750
    command.upgrade(config, "head")
    with Session(old) as session:
        assert not rollups_complete(session=session)  # it had rows: the backfill is needed again


def test_0009_fills_the_week_rollup_from_complete_day_rows(
    make_database: Callable[..., MonitorSettings], engines: list[Engine]
) -> None:
    settings = make_database()
    engine = _engine(settings, engines)
    rng = random.Random(9)
    write_batch(engine, scored(rng, 400, START - timedelta(days=10), timedelta(days=20)), [])
    week = next(t for t in SERIES if t.name == "sentiment_week")
    written = series_rows(engine, week)
    assert len({r[2] for r in written}) >= 3  # the documents span several weeks

    config = alembic_config(settings)
    command.downgrade(config, "0008")
    assert "sentiment_week" not in inspect(engine).get_table_names()
    command.upgrade(config, "head")
    assert series_rows(engine, week) == written
    assert_rollups_exact(engine)
