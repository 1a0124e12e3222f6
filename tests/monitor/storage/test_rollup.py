"""Rollup arithmetic: every document counts once per dimension key, in its UTC minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from monitor.storage.rollup import Counted, minute_of, rollup

T0 = datetime(2026, 2, 3, 10, 15, 30, tzinfo=UTC)


def test_minute_of_is_utc_and_truncated() -> None:
    local = datetime(2026, 2, 3, 11, 15, 59, 999, tzinfo=timezone(timedelta(hours=1)))
    assert minute_of(local) == datetime(2026, 2, 3, 10, 15, tzinfo=UTC)


def test_rollup_counts_each_dimension() -> None:
    docs = [
        Counted(T0, "Earnings", ["AAA", "BBB"], "negative", -0.8),
        Counted(T0 + timedelta(seconds=20), "Earnings", ["AAA"], "positive", 0.6),
        Counted(T0 + timedelta(minutes=1), "Macro", [], "neutral", 0.1),
    ]
    by_key = {(d.dimension, d.key, d.minute.minute): d for d in rollup(docs)}

    assert by_key[("all", "", 15)].n_negative == 1
    assert by_key[("all", "", 15)].n_positive == 1
    assert by_key[("all", "", 15)].score_sum == -0.8 + 0.6
    assert by_key[("topic", "Earnings", 15)].total == 2
    assert by_key[("ticker", "AAA", 15)].total == 2
    assert by_key[("ticker", "BBB", 15)].n_negative == 1
    assert by_key[("topic", "Macro", 16)].n_neutral == 1
    assert len(by_key) == 6


def test_a_ticker_listed_twice_counts_once() -> None:
    *_, ticker = rollup([Counted(T0, "Markets", ["ZZZ", "ZZZ"], "neutral", 0.0)])
    assert ticker.total == 1


documents = st.builds(
    Counted,
    published_at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 1, 2), timezones=st.just(UTC)
    ),
    topic=st.sampled_from(["Earnings", "Macro", "IPO"]),
    tickers=st.lists(st.sampled_from(["AAA", "BBB", "CCC"]), max_size=3),
    sentiment=st.sampled_from(["negative", "neutral", "positive"]),
    score=st.floats(min_value=-1, max_value=1),
)


@given(st.lists(documents, max_size=40))
def test_dimension_all_counts_every_document_once(docs: list[Counted]) -> None:
    deltas = rollup(docs)
    assert sum(d.total for d in deltas if d.dimension == "all") == len(docs)
    assert sum(d.total for d in deltas if d.dimension == "topic") == len(docs)
    assert deltas == sorted(deltas, key=lambda d: (d.dimension, d.key, d.minute))
