"""Migrations 0007, 0008 and 0010 on a populated table and the search-vector backfill: searches
answer the same on the 0006 expression before it and on the stored column after it; the trigger
fills new rows; 0006's index goes once every row has its vector; 0010 keys the text index by day;
downgrades undo each step."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from migrations import alembic_config
from monitor.storage.headline_queries import HeadlineFilter, count_headlines, headlines
from monitor.storage.headline_search import day_number, matches
from monitor.storage.ingest import ScoredDocument, write_batch
from monitor.storage.models import Document
from monitor.storage.queries import TimeRange
from monitor.storage.search_vectors import backfill_search_vectors, vectors_stored
from monitor.storage.settings import MonitorSettings
from tests.monitor.storage.rollup_checks import scored

pytestmark = pytest.mark.integration

START = datetime(2026, 5, 1, tzinfo=UTC)
WINDOW = TimeRange(START - timedelta(days=1), START + timedelta(days=3))
WORDS = ("bank", "cuts", "guidance", "profit", "warning", "rate", "cut", "fed", "strong", "chip")
SEARCHES = (
    "guidance",
    "cut",
    '"profit warning"',
    '"rate cut"',
    '"warning profit"',
    '"bank cuts guidance"',
    '-"rate cut" fed',
    '"profit warning" OR chip',
    "rate -cut",
    "bank OR chip",
    "guid*",
    "warn* profit",
    "AAA",
    "$bbb",
    "ccc guidance",
    "%",
    "the",
)
_NULLS = text("select count(*) from documents where search_vector is null")
_TRIGGERS = text("select count(*) from pg_trigger where tgname = 'documents_fill_search_vector'")


@pytest.fixture
def engine(make_database: Callable[..., MonitorSettings]) -> Iterator[tuple[Engine, Config]]:
    settings = make_database(migrate=False)
    made = create_engine(settings.sqlalchemy_url, poolclass=NullPool)
    yield made, alembic_config(settings)
    made.dispose()


def _documents(seed: int, n: int) -> list[ScoredDocument]:
    rng = random.Random(seed)
    docs = scored(rng, n, START, timedelta(days=2))
    return [replace(d, headline=" ".join(rng.choices(WORDS, k=rng.randrange(2, 7)))) for d in docs]


def _store_documents(engine: Engine, docs: list[ScoredDocument]) -> None:
    """The documents alone, as a worker of an older schema stored them (this version's
    `write_batch` also writes rollups those schemas lack)."""
    with engine.begin() as conn:
        conn.execute(Document.__table__.insert(), [asdict(d) for d in docs])


def _answers(engine: Engine) -> list[object]:
    with Session(engine) as session:
        found: list[object] = []
        for query in SEARCHES:
            flt = HeadlineFilter(WINDOW, text=query)
            found.append([h.id for h in headlines(session=session, flt=flt, limit=1000).rows])
            found.append(count_headlines(session=session, flt=flt, cap=50))
        return found


def _index_names(engine: Engine) -> set[str]:
    return {i["name"] or "" for i in inspect(engine).get_indexes("documents")}


def test_upgrade_backfill_and_downgrade_on_a_table_with_rows(
    engine: tuple[Engine, Config],
) -> None:
    db, config = engine
    command.upgrade(config, "0006")
    _store_documents(db, _documents(1, 400))

    command.upgrade(config, "head")
    assert {"ix_documents_search_by_day", "ix_documents_search"} <= _index_names(db)
    with db.connect() as conn:
        assert conn.scalar(_TRIGGERS) == 1
    write_batch(db, _documents(2, 100), [])  # the trigger fills rows written meanwhile
    with db.connect() as conn:
        assert conn.scalar(_NULLS) == 400
    with Session(db) as session:
        assert not vectors_stored(session=session)
    before = _answers(db)  # on the expression
    assert any(before[0::2]) and all(not ids for ids in before[-4::2])

    assert backfill_search_vectors(db, batch=37) == 400  # many batches: the keyset walks on
    with db.connect() as conn:
        assert conn.scalar(_NULLS) == 0
        same = "select count(*) from documents where search_vector = "
        same += "documents_search_vector(headline, tickers)"
        assert conn.scalar(text(same)) == 500
    with Session(db) as session:
        assert vectors_stored(session=session)
    assert "ix_documents_search" not in _index_names(db)  # no longer read
    assert _answers(db) == before  # on the column: exactly what the expression found
    assert backfill_search_vectors(db) == 0  # running it again fills nothing

    command.downgrade(config, "0006")
    assert "ix_documents_search" in _index_names(db)  # back for searches
    assert "search_vector" not in {c["name"] for c in inspect(db).get_columns("documents")}
    assert "ix_documents_search_vector" not in _index_names(db)
    with db.connect() as conn:
        assert conn.scalar(_TRIGGERS) == 0
        assert conn.scalar(text("select count(*) from documents")) == 500
        assert not conn.scalar(
            text("select count(*) from rollup_state where name = 'search_vector'")
        )
    command.upgrade(config, "head")
    with Session(db) as session:
        assert not vectors_stored(session=session)  # it had rows: the backfill is needed again


def test_0008_drops_the_expression_index_where_every_row_has_its_vector(
    engine: tuple[Engine, Config],
) -> None:
    db, config = engine
    command.upgrade(config, "0007")  # empty: complete at once
    _store_documents(db, _documents(4, 300))
    assert "ix_documents_search" in _index_names(db)

    command.upgrade(config, "head")
    assert "ix_documents_search" not in _index_names(db)
    on_head = _answers(db)
    assert any(on_head[0::2])
    command.downgrade(config, "0007")
    assert "ix_documents_search" in _index_names(db)
    command.upgrade(config, "head")
    assert "ix_documents_search" not in _index_names(db)
    assert _answers(db) == on_head


def test_0010_keys_the_text_index_by_day_on_a_table_with_rows(
    engine: tuple[Engine, Config],
) -> None:
    db, config = engine
    command.upgrade(config, "0009")
    write_batch(db, _documents(5, 300), [])
    assert "ix_documents_search_vector" in _index_names(db)

    command.upgrade(config, "head")
    indexes = _index_names(db)
    assert "ix_documents_search_by_day" in indexes and "ix_documents_search_vector" not in indexes
    on_head = _answers(db)
    assert any(on_head[0::2])
    command.downgrade(config, "0009")
    indexes = _index_names(db)
    assert "ix_documents_search_vector" in indexes and "ix_documents_search_by_day" not in indexes
    with db.connect() as conn:
        function = conn.scalar(text("select to_regprocedure('documents_search_day(timestamptz)')"))
    assert function is None
    command.upgrade(config, "head")
    assert _answers(db) == on_head


def test_an_empty_database_is_complete_and_searches_use_the_stored_column(
    database: MonitorSettings,
) -> None:
    db = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    try:
        write_batch(db, _documents(3, 200), [])
        with db.connect() as conn:
            assert conn.scalar(_NULLS) == 0
        with Session(db) as session:
            assert vectors_stored(session=session)
            found = headlines(session=session, flt=HeadlineFilter(WINDOW, text="guidance"))
            assert found.rows and all("guidance" in h.headline for h in found.rows)
            session.execute(text("set local enable_seqscan = off"))
            fed = matches("fed", stored=True, day=day_number(WINDOW.since))
            stmt = select(func.count()).select_from(Document).where(fed)
            compiled = stmt.compile(db)
            plan = session.connection().exec_driver_sql(f"explain {compiled}", compiled.params)
            assert "ix_documents_search_by_day" in "\n".join(row[0] for row in plan)
    finally:
        db.dispose()


def test_day_numbers_agree_with_the_index_function(database: MonitorSettings) -> None:
    """The day a search names (`day_number`) is the one 0010's function indexes each row under,
    at midnight and a microsecond either side of it, in any time zone the session has."""
    midnight = datetime(2026, 3, 29, tzinfo=UTC)  # a night clocks go forward in Europe
    tick = timedelta(microseconds=1)
    rng = random.Random(10)
    instants = [midnight - tick, midnight, midnight + tick]
    instants += [midnight + timedelta(seconds=rng.uniform(-4e7, 4e7)) for _ in range(200)]
    db = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    try:
        with db.connect() as conn:
            conn.execute(text("set time zone 'Europe/Berlin'"))
            for at in instants:
                assert conn.scalar(select(func.documents_search_day(at))) == day_number(at), at
    finally:
        db.dispose()
