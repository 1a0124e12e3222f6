"""Searches find exactly what the query matches on the words' expression, on a real database:
words, phrases, prefixes, tickers, OR and NOT, over ranges from hours to three months (on both
sides of the newest-day split of several-term searches), in pages and in counts, whether the
range is tested row by row or read through the text index."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.headline_queries import HeadlineFilter, count_headlines, headlines
from monitor.storage.headline_search import tsquery
from monitor.storage.models import Document, search_vector
from monitor.storage.queries import TimeRange
from monitor.storage.search_vectors import vectors_stored
from monitor.storage.settings import MonitorSettings
from tests.dashboard.dashboard_seed import neutral_document

pytestmark = pytest.mark.integration

# Stop words ("the", "of") leave gaps in positions; hyphenated words index as the whole and parts.
WORDS = ("profit", "warning", "rate", "cut", "cuts", "the", "bank", "of", "guidance", "year-end")
START = datetime(2026, 10, 15, tzinfo=UTC)
END = datetime(2026, 12, 15, tzinfo=UTC)
RANGES = (
    TimeRange(START, END),  # everything
    TimeRange(datetime(2026, 11, 20, tzinfo=UTC), END),
    TimeRange(datetime(2026, 11, 30, 6, tzinfo=UTC), datetime(2026, 12, 1, 2, tzinfo=UTC)),
    TimeRange(END - timedelta(hours=20), END),
)


@pytest.fixture(scope="module")
def session(make_database: Callable[..., MonitorSettings]) -> Iterator[Session]:
    database = make_database()
    rng = random.Random(8)
    span = (END - START).total_seconds()
    docs = [
        neutral_document(
            f"d{i:03d}",
            START + timedelta(seconds=rng.uniform(0, span)),
            " ".join(rng.choices(WORDS, k=rng.randrange(2, 9))),
            rng.choice([[], ["BANK"], ["WARN", "CUT"]]),
        )
        for i in range(700)
    ]
    engine = make_engine(database)
    with make_sessionmaker(engine).begin() as s:
        s.add_all(docs)
    with Session(engine) as s:
        assert vectors_stored(session=s)  # empty at first: searches read the stored column
        yield s
    engine.dispose()


def _phrase(words: list[str]) -> str:
    return '"' + " ".join(words) + '"'


_word = st.sampled_from([*WORDS, "warn*", "BANK", "$CUT"])
_part = st.one_of(
    _word,
    st.lists(st.sampled_from(WORDS), min_size=2, max_size=4).map(_phrase),
    st.lists(st.sampled_from(WORDS), min_size=2, max_size=3).map(lambda w: "-" + _phrase(w)),
)
searches = st.lists(_part, min_size=1, max_size=3).flatmap(
    lambda parts: st.sampled_from([" ".join(parts), " OR ".join(parts)])
)


def _expected(session: Session, typed: str, time_range: TimeRange) -> list[str]:
    """Brute force: the words' expression (not the stored column), newest first."""
    stmt = (
        select(Document.id)
        .where(search_vector().op("@@")(tsquery(typed)))
        .where(Document.published_at >= time_range.since, Document.published_at < time_range.until)
        .order_by(Document.published_at.desc(), Document.id.desc())
    )
    return list(session.scalars(stmt))


# `search_plan` only sets which plan runs, the same for every example.
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(typed=searches, time_range=st.sampled_from(RANGES))
@example(typed='"cuts the guidance"', time_range=RANGES[1])  # a stop word between
@example(typed='"profit warning"', time_range=RANGES[1])
@example(typed='"warning profit" OR "rate cut bank"', time_range=RANGES[0])
@example(typed='-"bank of year-end" cut', time_range=RANGES[2])
@example(typed="profit warning", time_range=RANGES[1])
def test_pages_and_counts_find_what_the_plain_query_finds(
    session: Session, search_plan: str, typed: str, time_range: TimeRange
) -> None:
    expected = _expected(session, typed, time_range)
    flt = HeadlineFilter(time_range, text=typed)
    assert [h.id for h in headlines(session=session, flt=flt, limit=1000).rows] == expected
    count = count_headlines(session=session, flt=flt, cap=10_000)
    assert (count.value, count.capped) == (len(expected), False)
