"""The Headlines list against a real database: search words, phrases, prefixes and tickers,
user text as literal data, keyset paging over ties, and the capped count."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from monitor.storage import headline_queries
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.headline_queries import (
    HeadlineCount,
    HeadlineCursor,
    HeadlineFilter,
    count_headlines,
    headlines,
)
from monitor.storage.models import Document
from monitor.storage.queries import TimeRange
from monitor.storage.settings import MonitorSettings
from tests.dashboard.dashboard_seed import END, MINUTES, neutral_document, seed

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
WIDE = TimeRange(T0 - timedelta(days=1), T0 + timedelta(days=1))
HEADLINES = {
    "cut": "Fed signals a rate cut in March",
    "hike": "Rate hike fears: no cut expected this year",
    "apple": "Apple raises guidance after a strong quarter",
    "cuts": "Widget maker cuts guidance again",
    "downgrade": "Analyst downgrades chipmaker on weak demand",
    "msft": "Shares of $MSFT climb",
    "brk": "Berkshire posts results",
    "nasty": '100% sure: \' OR 1=1; -- back\\slash under_score "quoted"',
}
TICKERS = {"apple": ["AAPL"], "downgrade": ["NVDA"], "msft": ["MSFT"], "brk": ["BRK.B"]}


def _write(settings: MonitorSettings, docs: list[Document]) -> None:
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as s:
            s.add_all(docs)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def session(make_database: Callable[..., MonitorSettings]) -> Iterator[Session]:
    """One database for the module: these tests only read."""
    database = make_database()
    docs = [
        neutral_document(key, T0 - timedelta(minutes=i), text, TICKERS.get(key))
        for i, (key, text) in enumerate(HEADLINES.items())
    ]
    # Ties: 23 items in 5 instants, ids in no particular order, for the paging tests.
    docs += [
        neutral_document(
            f"tie-{(i * 7) % 23:02d}", T0 + timedelta(seconds=i % 5), f"Tied item {i} update"
        )
        for i in range(23)
    ]
    _write(database, docs)
    engine = make_engine(database)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _found(session: Session, text: str, time_range: TimeRange = WIDE) -> set[str]:
    flt = HeadlineFilter(time_range, text=text)
    return {h.id for h in headlines(session=session, flt=flt, limit=100).rows}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("guidance", {"apple", "cuts"}),
        ("cut", {"cut", "hike", "cuts"}),  # any form of the word
        ('"rate cut"', {"cut"}),  # a phrase, not both words anywhere
        ("rate -hike", {"cut"}),
        ("apple OR chipmaker", {"apple", "downgrade"}),
        ("downgr*", {"downgrade"}),
        ("guid* cuts", {"cuts"}),
        ('"strong quarter" appl*', {"apple"}),
        ("AAPL", {"apple"}),  # a tagged ticker the headline never names
        ("$AAPL", {"apple"}),
        ("aapl guidance", {"apple"}),
        ("$brk.b", {"brk"}),
        ("MSFT", {"msft"}),
        ("GUIDANCE", {"apple", "cuts"}),
    ],
)
def test_search_finds_words_phrases_prefixes_and_tickers(
    session: Session, text: str, expected: set[str]
) -> None:
    assert _found(session, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "%",
        "_",
        "'",
        '"',
        "\\",
        "' OR 1=1; --",
        "'; drop table documents; --",
        "a & b | !c",
        "foo:* <-> bar",
        "(((",
        '"unbalanced',
        "-",
        "OR",
        "*",
        "the",
        "the* __* foo_bar*",
        "\x00",
    ],
)
def test_user_text_is_data_and_never_raises(session: Session, text: str) -> None:
    found = _found(session, text)
    assert found <= {"nasty"}  # at most the headline that holds those very words
    assert "documents" in inspect(session.get_bind()).get_table_names()


def test_empty_or_blank_search_filters_nothing(session: Session) -> None:
    everything = _found(session, "")
    assert len(everything) == len(HEADLINES) + 23
    assert _found(session, "   \t ") == everything


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_searches_without_error(session: Session, text: str) -> None:
    flt = HeadlineFilter(WIDE, text=text)
    page = headlines(session=session, flt=flt, limit=5)
    count = count_headlines(session=session, flt=flt, cap=100)
    assert count.value >= len(page.rows)


def _all_pages(session: Session, flt: HeadlineFilter, limit: int) -> list[tuple[datetime, str]]:
    seen: list[tuple[datetime, str]] = []
    after: HeadlineCursor | None = None
    for _ in range(100):
        page = headlines(session=session, flt=flt, limit=limit, after=after)
        assert len(page.rows) <= limit
        seen += [(h.published_at, h.id) for h in page.rows]
        if page.next is None:
            return seen
        assert len(page.rows) == limit
        after = page.next
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("limit", [1, 3, 5, 22, 23, 24, 100])
def test_keyset_pages_return_every_match_once_in_order(session: Session, limit: int) -> None:
    flt = HeadlineFilter(WIDE, text="tied")
    seen = _all_pages(session, flt, limit)
    assert len(seen) == 23 == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # newest first, ties by id


def test_keyset_paging_over_everything_with_a_window(session: Session) -> None:
    window = TimeRange(T0 - timedelta(minutes=5), T0 + timedelta(seconds=3))
    seen = _all_pages(session, HeadlineFilter(window), 4)
    # The headlines 0..5 minutes back (since is inclusive), the ties at seconds 0..2 (until is not).
    expected = 6 + sum(1 for i in range(23) if i % 5 < 3)
    assert len(seen) == expected == len(set(seen))
    assert all(window.since <= at < window.until for at, _ in seen)


def test_count_stops_at_the_cap(session: Session, search_plan: str) -> None:
    flt = HeadlineFilter(WIDE, text="tied")
    assert count_headlines(session=session, flt=flt) == HeadlineCount(23, capped=False)
    assert count_headlines(session=session, flt=flt, cap=23) == HeadlineCount(23, capped=False)
    assert count_headlines(session=session, flt=flt, cap=10) == HeadlineCount(10, capped=True)


def test_filters_combine_with_search_and_paging(
    database: MonitorSettings, search_plan: str
) -> None:
    seed(database)
    engine = make_engine(database)
    everything = TimeRange(END - timedelta(days=1), END + timedelta(days=1))
    try:
        with Session(engine) as s:
            flt = HeadlineFilter(
                everything, topics=("Earnings",), sentiments=("negative",), ticker="nwf"
            )
            rows = _all_pages(s, flt, 10)
            page = headlines(session=s, flt=flt, limit=len(rows)).rows
            assert len(rows) > 10
            assert all(h.topic == "Earnings" and "NWF" in h.tickers for h in page)
            assert count_headlines(session=s, flt=flt).value == len(rows)
            searched = HeadlineFilter(everything, sentiments=("negative",), text="$NWF earnings")
            found = headlines(session=s, flt=searched, limit=1000).rows
            assert found and all("NWF" in h.tickers and "Earnings" in h.headline for h in found)
            assert count_headlines(session=s, flt=HeadlineFilter(everything)).value == min(
                MINUTES * 4, 1000
            )
    finally:
        engine.dispose()


def test_searches_page_and_count_across_the_newest_days(
    make_database: Callable[..., MonitorSettings],
    monkeypatch: pytest.MonkeyPatch,
    search_plan: str,
) -> None:
    """Searches read the newest UTC days one by one and then the older rest (RECENT, here 30 h
    back from noon: parts of two days, then the rest); pages and counts still see every
    match once, newest first, whichever way the range is read. The phrase's items come in pairs
    published at the same instant, so a page may end between the two."""
    monkeypatch.setattr(headline_queries, "RECENT", timedelta(hours=30))
    database = make_database()
    end = T0 + timedelta(days=3)
    phrase = [
        neutral_document(
            f"p{i:02d}", end - timedelta(hours=2 * (i // 2), minutes=1), "Profit warning"
        )
        for i in range(36)
    ]
    words = [
        neutral_document(
            f"w{i:02d}", end - timedelta(hours=3 * i, minutes=30), "Warning issued on profit"
        )
        for i in range(24)
    ]
    _write(database, phrase + words)
    everything = TimeRange(end - timedelta(days=3), end)
    engine = make_engine(database)
    try:
        with Session(engine) as s:
            for text, docs in (('"profit warning"', phrase), ("profit warning", phrase + words)):
                expected = sorted(((d.published_at, d.id) for d in docs), reverse=True)
                for limit in (1, 5, 11, 12, 13, 100):
                    assert _all_pages(s, HeadlineFilter(everything, text=text), limit) == expected
                for hours in (1, 12, 24, 25, 72):
                    rng = TimeRange(end - timedelta(hours=hours), end)
                    inside = sum(1 for at, _ in expected if rng.since <= at < rng.until)
                    got = count_headlines(session=s, flt=HeadlineFilter(rng, text=text), cap=20)
                    assert got == HeadlineCount(min(inside, 20), capped=inside > 20)
    finally:
        engine.dispose()
