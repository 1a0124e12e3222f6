"""Helpers for the rollup exactness tests: seeded documents, and every rollup recomputed from the
documents table in SQL, independently of the code under test."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from monitor.storage.ingest import ScoredDocument
from monitor.storage.resolution import ORIGIN
from monitor.storage.rollup_tables import INGEST, SERIES, RollupTable

TOPICS = ("Earnings", "Macro", "IPO", "Fed | Central Banks")
TICKERS = ("AAA", "BBB", "CCC", "DDD", "EEE")
SENTIMENTS = ("negative", "neutral", "positive")


def scored(rng: random.Random, n: int, start: datetime, span: timedelta) -> list[ScoredDocument]:
    """`n` documents published at random instants in [start, start + span)."""
    docs = []
    for _ in range(n):
        at = start + timedelta(seconds=rng.randrange(int(span.total_seconds())))
        sentiment = rng.choice(SENTIMENTS)
        tickers = rng.sample(TICKERS, rng.randrange(3))
        if tickers and rng.random() < 0.1:
            tickers.append(tickers[0])  # listed twice, counted once
        docs.append(
            ScoredDocument(
                id=f"doc-{rng.getrandbits(64):016x}",
                published_at=at,
                source="wire",
                headline="a headline",
                body=None,
                url=None,
                lang="en",
                tickers=tickers,
                topic_id=0,
                topic=rng.choice(TOPICS),
                topic_confidence=0.9,
                sentiment=sentiment,
                p_negative=0.2,
                p_neutral=0.6,
                p_positive=0.2,
                score=rng.randrange(-4, 5) / 4,  # quarters: float sums stay exact
                model=rng.choice(("minilm 1.0.0", "minilm 1.1.0")),
                kafka_partition=0,
                kafka_offset=None,
            )
        )
    return docs


_KEYED = """
select 'all' as dimension, '' as key, published_at, sentiment, score from documents
union all select 'topic', topic, published_at, sentiment, score from documents
union all select 'ticker', t, published_at, sentiment, score
  from documents, lateral (select distinct unnest(tickers) as t) as u
"""
Row = tuple[object, ...]


def expected_series(engine: Engine, step: timedelta) -> set[Row]:
    """Every (dimension, key, bucket, counts, score) the documents give at `step`."""
    query = text(
        "select dimension, key, date_bin(:step, published_at, :origin), "  # noqa: S608 - constant
        "count(*) filter (where sentiment = 'negative'), "
        "count(*) filter (where sentiment = 'neutral'), "
        "count(*) filter (where sentiment = 'positive'), sum(score) "
        f"from ({_KEYED}) as k group by 1, 2, 3"
    )
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(query, {"step": step, "origin": ORIGIN})}


def series_rows(engine: Engine, table: RollupTable) -> set[Row]:
    query = text(
        f"select dimension, key, {table.column}, n_negative, n_neutral, n_positive, "  # noqa: S608
        f"score_sum from {table.name}"
    )
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(query)}


def expected_ingest(engine: Engine, step: timedelta) -> set[Row]:
    query = text(
        "select date_bin(:step, ingested_at, :origin), model, count(*), max(ingested_at) "
        "from documents group by 1, 2"
    )
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(query, {"step": step, "origin": ORIGIN})}


def ingest_rows(engine: Engine, table: RollupTable) -> set[Row]:
    query = text(
        f"select {table.column}, model, documents, last_ingested_at from {table.name}"  # noqa: S608
    )
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(query)}


def assert_rollups_exact(engine: Engine) -> None:
    """Every resolution of every rollup equals what the documents give, row for row."""
    for table in SERIES:
        assert series_rows(engine, table) == expected_series(engine, table.step), table.name
    assert_ingest_exact(engine)


def assert_ingest_exact(engine: Engine, *, times: bool = True) -> None:
    """The ingest counters at every resolution equal the documents' counts.

    `times=False` compares counts only: retention leaves a bucket's newest time as it was.
    """
    for table in INGEST:
        got, want = ingest_rows(engine, table), expected_ingest(engine, table.step)
        if not times:
            got, want = {r[:3] for r in got}, {r[:3] for r in want}
        assert got == want, table.name
