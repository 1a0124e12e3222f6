"""The pair index (0011) on a real database: whatever is typed, PostgreSQL's printed tsquery parses
back to the same query, every headline the query matches holds the pairs it requires (so the
pair condition never hides a match), a never-adjacent phrase is read through the pair index, and
0011 goes down and up on a table with rows."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, func, inspect, select, text
from sqlalchemy.orm import Session

from migrations import alembic_config
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.headline_search import matches, printed_tsquery
from monitor.storage.models import Document
from monitor.storage.phrase_pairs import parse, required_pairs
from monitor.storage.settings import MonitorSettings
from tests.dashboard.dashboard_seed import neutral_document
from tests.monitor.storage.tsquery_text import printed

pytestmark = pytest.mark.integration

# Apostrophes and backslashes split words (`it's` is two stop words); hyphenated words index as
# the whole and its parts; stop words leave gaps in positions.
WORDS = ("profit", "warning", "rate", "cut", "the", "of", "year-end", "it's", "c:\\tmp", "bank")
START = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def session(make_database: Callable[..., MonitorSettings]) -> Iterator[Session]:
    database = make_database()
    rng = random.Random(11)
    docs = [
        neutral_document(
            f"p{i:03d}",
            START + timedelta(minutes=i),
            " ".join(rng.choices(WORDS, k=rng.randrange(1, 9))),
            rng.choice([[], ["BANK"], ["WARN", "CUT"]]),
        )
        for i in range(500)
    ]
    engine = make_engine(database)
    with make_sessionmaker(engine).begin() as s:
        s.add_all(docs)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _printed_tsquery(session: Session, typed: str) -> str:
    return session.scalars(select(printed_tsquery(typed))).one()


def _count(session: Session, condition: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(Document).where(condition)) or 0)


typed_text = st.lists(
    st.one_of(st.sampled_from([*WORDS, "warn*", "$CUT", "BANK"]), st.sampled_from('"-*()|&!:<>')),
    max_size=10,
).flatmap(lambda parts: st.sampled_from([" ".join(parts), "".join(parts), " OR ".join(parts)]))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(typed=st.one_of(typed_text, st.text(max_size=30)))
@example(typed='"warning profit"')
@example(typed='"profit warning" OR "rate cut" -"it\'s the year-end"')
@example(typed='"c:\\tmp it\'s" bank')
def test_the_pairs_a_search_requires_hold_in_every_headline_it_matches(
    session: Session, typed: str
) -> None:
    shown = _printed_tsquery(session, typed)
    query = parse(shown)
    if query is not None:  # read back as PostgreSQL reads it, it prints the same
        assert _printed_tsquery_of(session, printed(query)) == shown
    pairs = required_pairs(query)
    if pairs is not None:
        found = matches(typed, stored=True)
        kept = matches(typed, stored=True, pairs=pairs)
        assert _count(session, found) == _count(session, kept)


def _printed_tsquery_of(session: Session, tsquery_text: str) -> str:
    reprinted = text("select cast(cast(:q as tsquery) as text)")
    return str(session.scalar(reprinted, {"q": tsquery_text}))


def test_a_never_adjacent_phrase_is_read_through_the_pair_index(session: Session) -> None:
    typed = '"warning profit"'
    pairs = required_pairs(parse(_printed_tsquery(session, typed)))
    assert pairs is not None
    both_words = _count(session, matches("warning profit", stored=True))
    exact = _count(session, matches(typed, stored=True))
    # the pair condition alone, without the exact words, already narrows to the phrase's rows
    narrowed = _count(session, matches("warning", stored=True, pairs=pairs))
    assert both_words > narrowed >= exact
    with session.begin_nested():
        session.execute(text("set local enable_seqscan = off"))
        stmt = (
            select(func.count())
            .select_from(Document)
            .where(matches(typed, stored=True, pairs=pairs))
        )
        compiled = stmt.compile(session.get_bind())
        plan = session.connection().exec_driver_sql(f"explain {compiled}", compiled.params)
        assert "ix_documents_search_pairs" in "\n".join(row[0] for row in plan)


def test_0011_goes_down_and_up_on_a_table_with_rows(
    make_database: Callable[..., MonitorSettings],
) -> None:
    database = make_database()
    config = alembic_config(database)
    engine = make_engine(database)
    try:
        with make_sessionmaker(engine).begin() as s:
            headline = "profit warning for the bank"
            s.add_all(neutral_document(f"m{i}", START, headline) for i in (1, 2))
        command.downgrade(config, "0010")
        names = {i["name"] for i in inspect(engine).get_indexes("documents")}
        assert "ix_documents_search_pairs" not in names
        with engine.connect() as conn:
            gone = conn.scalar(text("select to_regprocedure('documents_search_pairs(tsvector)')"))
        assert gone is None
        command.upgrade(config, "head")
        with Session(engine) as s:
            pairs = required_pairs(parse(_printed_tsquery(s, '"profit warning"')))
            assert _count(s, matches('"profit warning"', stored=True, pairs=pairs)) == 2
    finally:
        engine.dispose()
