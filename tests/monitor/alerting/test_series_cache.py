"""The leader's incremental minute reads against full reads, on real PostgreSQL.

Documents go in through the worker's own sink (`write_batch`), so `sentiment_minute` is summed
exactly as in production, in slices as live traffic would arrive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from monitor.alerting.detector import Series, history_needed, judge, step_floor
from monitor.alerting.evaluator import Outbox, Timing, evaluate_rules
from monitor.alerting.rules import Rule
from monitor.alerting.series_cache import SeriesCache, SeriesCaches
from monitor.storage.ingest import ScoredDocument, write_batch
from monitor.storage.models import Alert
from monitor.storage.settings import MonitorSettings

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
TICKERS = tuple(f"T{i:02d}" for i in range(24))
LATENESS = timedelta(seconds=60)
BURSTS = (("T03", 150, 162), ("T07", 200, 212), ("T03", 260, 270))


def ticker_rule(name: str) -> Rule:
    return Rule(
        name=name,
        scope="ticker",
        window_minutes=3,
        baseline_windows=20,
        min_baseline_windows=8,
        min_volume=3,
        cooldown_minutes=0,
        resolve_windows=2,
    )


def documents(rng: np.random.Generator, minutes: range) -> list[ScoredDocument]:
    """Busy tickers with a few bad-news bursts; the scores are arbitrary floats, so the stored
    score sums depend on the order the sink added them."""
    docs = []
    for minute in minutes:
        bursting = [t for t, a, b in BURSTS if a <= minute < b]
        usual = int(rng.integers(4, 14))
        for j in range(usual + 10 * len(bursting)):
            tickers = list(rng.choice(TICKERS[:8] if j % 2 else TICKERS, int(rng.integers(0, 3))))
            if j >= usual:  # the bad news itself, ten more items a minute
                tickers = [bursting[(j - usual) // 10]]
            burst = any(t in tickers for t in bursting)
            negative = rng.random() < (0.9 if burst else 0.1)
            p_neg = float(rng.uniform(0.5, 1.0) if negative else rng.uniform(0.0, 0.3))
            p_pos = float((1 - p_neg) * rng.random())
            docs.append(
                ScoredDocument(
                    id=f"d-{minute}-{j}",
                    published_at=T0 + timedelta(minutes=minute, seconds=float(rng.uniform(0, 60))),
                    source="wire",
                    headline=f"item {minute}-{j}",
                    body=None,
                    url=None,
                    lang=None,
                    tickers=tickers,
                    topic_id=5,
                    topic="Earnings",
                    topic_confidence=0.9,
                    sentiment="negative" if negative else "neutral",
                    p_negative=p_neg,
                    p_neutral=1 - p_neg - p_pos,
                    p_positive=p_pos,
                    score=p_pos - p_neg,
                    model="test",
                    kafka_partition=None,
                    kafka_offset=None,
                )
            )
    return docs


def arriving(seed: int, end: int, slice_minutes: int) -> Iterator[list[ScoredDocument]]:
    """The documents of [0, end) in slices; each slice's last 30 seconds arrive with the next
    one, within the allowed lateness."""
    docs = documents(np.random.default_rng(seed), range(end))
    held: list[ScoredDocument] = []
    for first in range(0, end, slice_minutes):
        cut = T0 + timedelta(minutes=min(first + slice_minutes, end))
        now = [d for d in docs if cut - timedelta(minutes=slice_minutes) <= d.published_at < cut]
        late = cut - timedelta(seconds=30)
        yield held + [d for d in now if d.published_at < late or cut == T0 + timedelta(minutes=end)]
        held = [d for d in now if d.published_at >= late]


@pytest.fixture
def engine(database: MonitorSettings) -> Iterator[Engine]:
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def identical(a: Series, b: Series) -> bool:
    arrays = ("negative", "volume", "polar", "score")
    return (a.start, a.first) == (b.start, b.first) and all(
        getattr(a, n).tobytes() == getattr(b, n).tobytes() for n in arrays
    )


def test_cycles_with_the_cache_judge_exactly_what_full_reads_judge(engine: Engine) -> None:
    sessions = sessionmaker(engine, expire_on_commit=False)
    cached, full = ticker_rule("cached"), ticker_rule("full")
    timing = Timing(LATENESS, max_windows=25, max_event_age=timedelta(days=3650))
    outbox = Outbox((), "http://127.0.0.1:8501")
    never = SeriesCaches(full_read_every=timedelta(days=1), clock=lambda: 0.0)
    for batch in arriving(seed=7, end=300, slice_minutes=7):
        write_batch(engine, batch, [])
        for _ in range(2):  # a second call finds nothing new, or catches up past max_windows
            evaluate_rules(sessions, [cached], timing=timing, outbox=outbox, caches=never)
            evaluate_rules(sessions, [full], timing=timing, outbox=outbox)
    cache = never.for_rule(cached, reread=LATENESS + cached.window)
    assert 0 < cache.rows_read < 400  # the last calls read a few minutes, not the horizon

    def episodes(rule: str) -> list[tuple[object, ...]]:
        with Session(engine) as session:
            rows = session.scalars(select(Alert).where(Alert.rule == rule).order_by(Alert.id))
            return [
                (a.key, a.status, a.started_at, a.resolved_at, a.window_end, a.observed)
                + (a.expected, a.baseline, a.deviation, a.volume, a.clear_windows)
                for a in rows
            ]

    found = episodes("full")
    assert {e[0] for e in found} >= {"T03", "T07"}
    assert episodes("cached") == found


@pytest.mark.parametrize("keys", [(), ("T03", "T07", "T20", "NEVER")])
def test_kept_rows_equal_a_full_read_bit_for_bit(engine: Engine, keys: tuple[str, ...]) -> None:
    rule = ticker_rule("r").model_copy(update={"keys": keys})
    cache = SeriesCache(rule, reread=LATENESS + rule.window, full_read_every=timedelta(days=1))
    for batch in arriving(seed=11, end=240, slice_minutes=5):
        write_batch(engine, batch, [])
        newest = max(d.published_at for d in batch)
        until = step_floor(newest - LATENESS, rule.step)
        since = until - history_needed(rule) - 5 * rule.step
        with Session(engine) as session:
            cache.read(session=session, since=since, until=until)
            fresh = SeriesCache(rule)
            fresh.read(session=session, since=since, until=until)
        recent = until - rule.window
        assert cache.keys_since(recent) == fresh.keys_since(recent)
        assert not keys or cache.keys_since(since) <= set(keys)
        for key in TICKERS:
            kept, read = cache.series(key), fresh.series(key)
            assert identical(kept, read), key
            judged, expected = (judge(rule, s, after=recent, until=until) for s in (kept, read))
            assert judged.facts.z.tobytes() == expected.facts.z.tobytes()
    assert cache.rows < 24 * (history_needed(rule) // rule.step + 5)


def test_a_straggler_older_than_the_margin_waits_for_the_full_read(engine: Engine) -> None:
    rule = ticker_rule("r")
    clock = [0.0]
    margin = LATENESS + rule.window
    cache = SeriesCache(
        rule, reread=margin, full_read_every=timedelta(hours=1), clock=lambda: clock[0]
    )
    docs = documents(np.random.default_rng(3), range(120))
    write_batch(engine, docs, [])
    since, until = T0, T0 + timedelta(minutes=100)
    with Session(engine) as session:
        cache.read(session=session, since=since, until=until)
    late = (
        ("late-old", until - timedelta(minutes=30)),
        ("late-near", until - timedelta(minutes=2)),
    )
    stragglers = [replace(docs[0], id=i, published_at=at, tickers=["T05"]) for i, at in late]
    write_batch(engine, stragglers, [])

    def t05(minutes_later: int) -> tuple[Series, Series]:
        end = until + timedelta(minutes=minutes_later)
        with Session(engine) as session:
            cache.read(session=session, since=since, until=end)
            fresh = SeriesCache(rule)
            fresh.read(session=session, since=since, until=end)
        return cache.series("T05"), fresh.series("T05")

    kept, read = t05(1)
    missing = np.flatnonzero(kept.volume != read.volume)
    assert missing.tolist() == [70]  # 30 minutes before `until`: beyond the margin
    clock[0] = 3600.0
    kept, read = t05(2)
    assert identical(kept, read)
    nothing = Series.from_minutes([], since, until + timedelta(minutes=2))
    assert identical(cache.series("NEVER"), nothing) and nothing.first == 102


def test_caches_follow_the_rules_and_forget_on_clear() -> None:
    caches = SeriesCaches(full_read_every=timedelta(hours=1))
    rule = ticker_rule("r")
    margin = LATENESS + rule.window
    first = caches.for_rule(rule, reread=margin)
    assert caches.for_rule(rule, reread=margin) is first
    changed = rule.model_copy(update={"baseline_windows": 30})
    assert caches.for_rule(changed, reread=margin) is not first
    assert caches.for_rule(changed, reread=margin + LATENESS) is not first
    kept = caches.for_rule(changed, reread=margin + LATENESS)
    caches.clear()
    assert caches.for_rule(changed, reread=margin + LATENESS) is not kept
    with pytest.raises(ValueError, match="read the rows"):
        kept.series("T01")
