"""Rollup arithmetic: every document counts once per dimension key, in its UTC minute, and the
hour, day and ingest rollups hold the same totals."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.storage.resolution import DAY, HOUR, MINUTE
from monitor.storage.rollup import (
    Counted,
    SeriesDelta,
    coarsen,
    ingest_counts,
    ingest_rollup,
    minute_of,
    rollup,
)

T0 = datetime(2026, 2, 3, 10, 15, 30, tzinfo=UTC)


def counted(at: datetime, topic: str, tickers: list[str], sentiment: str, score: float) -> Counted:
    return Counted(at, topic, tickers, sentiment, score, "m 1", at + timedelta(seconds=5))


def test_minute_of_is_utc_and_truncated() -> None:
    local = datetime(2026, 2, 3, 11, 15, 59, 999, tzinfo=timezone(timedelta(hours=1)))
    assert minute_of(local) == datetime(2026, 2, 3, 10, 15, tzinfo=UTC)


def test_rollup_counts_each_dimension() -> None:
    docs = [
        counted(T0, "Earnings", ["AAA", "BBB"], "negative", -0.8),
        counted(T0 + timedelta(seconds=20), "Earnings", ["AAA"], "positive", 0.6),
        counted(T0 + timedelta(minutes=1), "Macro", [], "neutral", 0.1),
    ]
    by_key = {(d.dimension, d.key, d.start.minute): d for d in rollup(docs)}

    assert by_key[("all", "", 15)].n_negative == 1
    assert by_key[("all", "", 15)].n_positive == 1
    assert by_key[("all", "", 15)].score_sum == -0.8 + 0.6
    assert by_key[("topic", "Earnings", 15)].total == 2
    assert by_key[("ticker", "AAA", 15)].total == 2
    assert by_key[("ticker", "BBB", 15)].n_negative == 1
    assert by_key[("topic", "Macro", 16)].n_neutral == 1
    assert len(by_key) == 6


def test_a_ticker_listed_twice_counts_once() -> None:
    *_, ticker = rollup([counted(T0, "Markets", ["ZZZ", "ZZZ"], "neutral", 0.0)])
    assert ticker.total == 1


def test_coarsen_sums_minutes_into_their_utc_hour_and_day() -> None:
    late = datetime(2026, 2, 3, 23, 59, 50, tzinfo=UTC)
    docs = [counted(late, "Macro", [], "negative", -1.0), counted(T0, "Macro", [], "neutral", 0.5)]
    hours = coarsen(rollup(docs), HOUR)
    days = coarsen(rollup(docs), DAY)
    assert [(d.dimension, d.start.hour, d.total) for d in hours if d.dimension == "all"] == [
        ("all", 10, 1),
        ("all", 23, 1),
    ]
    assert [(d.dimension, d.key, d.total, d.score_sum) for d in days] == [
        ("all", "", 2, -0.5),
        ("topic", "Macro", 2, -0.5),
    ]
    assert all(d.start == datetime(2026, 2, 3, tzinfo=UTC) for d in days)


def test_ingest_counts_per_model_with_the_newest_time() -> None:
    at = T0 + timedelta(seconds=10)
    pairs = [(T0, "a"), (at, "a"), (T0, "b"), (T0 + HOUR, "a")]
    rows = ingest_counts(pairs, HOUR)
    assert [(r.start.hour, r.model, r.documents, r.last_ingested_at) for r in rows] == [
        (10, "a", 2, at),
        (10, "b", 1, T0),
        (11, "a", 1, T0 + HOUR),
    ]


documents = st.builds(
    Counted,
    published_at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 1, 4), timezones=st.just(UTC)
    ),
    topic=st.sampled_from(["Earnings", "Macro", "IPO"]),
    tickers=st.lists(st.sampled_from(["AAA", "BBB", "CCC"]), max_size=3),
    sentiment=st.sampled_from(["negative", "neutral", "positive"]),
    score=st.integers(min_value=-4, max_value=4).map(lambda n: n / 4),  # sums stay exact
    model=st.sampled_from(["m 1", "m 2"]),
    ingested_at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 1, 4), timezones=st.just(UTC)
    ),
)


def _totals(deltas: list[SeriesDelta]) -> Counter[tuple[str, str, str]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for d in deltas:
        for column in ("n_negative", "n_neutral", "n_positive"):
            counts[(d.dimension, d.key, column)] += getattr(d, column)
    return counts


@given(st.lists(documents, max_size=40))
def test_dimension_all_counts_every_document_once(docs: list[Counted]) -> None:
    deltas = rollup(docs)
    assert sum(d.total for d in deltas if d.dimension == "all") == len(docs)
    assert sum(d.total for d in deltas if d.dimension == "topic") == len(docs)
    assert deltas == sorted(deltas, key=lambda d: (d.dimension, d.key, d.start))


@pytest.mark.parametrize("step", [HOUR, DAY])
@given(docs=st.lists(documents, max_size=40))
def test_every_resolution_holds_the_same_totals(step: timedelta, docs: list[Counted]) -> None:
    minutes = rollup(docs)
    coarse = coarsen(minutes, step)
    assert _totals(coarse) == _totals(minutes)
    assert coarse == sorted(coarse, key=lambda d: (d.dimension, d.key, d.start))
    assert all(d.start.timestamp() % step.total_seconds() == 0 for d in coarse)
    # Coarsening in two steps (minute -> hour -> day) is the same as in one.
    assert coarsen(coarsen(minutes, HOUR), DAY) == coarsen(minutes, DAY)
    ingest = ingest_rollup(docs, step)
    assert (
        sum(r.documents for r in ingest)
        == len(docs)
        == sum(r.documents for r in ingest_rollup(docs, MINUTE))
    )
    assert [(r.start, r.model) for r in ingest] == sorted((r.start, r.model) for r in ingest)
