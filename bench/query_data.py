"""Synthetic history for `bench/bench_queries.py`, generated inside PostgreSQL: one function per
table, each an INSERT ... SELECT over generate_series, timed and printed step by step.

Documents: published over the D whole UTC days before today with a daily cycle (two thirds
around 17:30 UTC, the middle of the US session), the 20 topics with a skew, classes 25/50/25 %
with probabilities that agree with them, 0-3 tickers each drawn with Zipf-like popularity
(index = floor((T+1)^u)), headlines of 5-10 synthetic words drawn the same way (so one word is in
half the headlines and most are in almost none) plus a rare phrase, stored a few seconds after
publication, by one of three model versions. `sentiment_minute` is derived from them exactly, one
GROUP BY per dimension.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Connection, Engine, text

from bench.loading import parallel, step, without_indexes
from model.labels import TOPICS
from monitor.storage.resolution import ORIGIN
from monitor.storage.rollup_tables import BACKFILLED

SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
PHRASES = ("profit warning", "rate cut", "share buyback", "guidance raised", "supply chain")
MODELS = ("finsent-minilm-int8 1.0", "finsent-minilm-fp16 1.0", "finsent-minilm-int8 1.1")
REASONS = ("not_json", "empty_text", "too_large", "wrong_type", "not_utf8", "headline_too_long")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Synthetic words, most popular first, and search probes of known selectivity."""

    words: list[str]
    probes: dict[str, str]


def vocabulary(rng: np.random.Generator, size: int = 4000) -> Vocabulary:
    words: dict[str, None] = {}
    while len(words) < size:
        words[
            "".join(rng.choice(SYLLABLES, int(rng.integers(2, 5)))) + str(rng.choice(list("nrsx")))
        ] = None
    listed = list(words)
    probes = {
        "common": listed[0],
        "mid": listed[60],
        "rare": listed[3000],
        "phrase": PHRASES[0],
        # Both words common together, never in this order: the worst case of a several-term
        # search (every headline with both words is rechecked).
        "never-adjacent": '"warning profit"',
    }
    return Vocabulary(listed, probes)


def ticker_symbols(count: int) -> list[str]:
    """AAA, AAB, ... : distinct 3-5 letter symbols."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    symbols = []
    for i in range(count):
        symbol, n = "", i + 26 * 26
        while n:
            n, r = divmod(n, 26)
            symbol = letters[r] + symbol
        symbols.append(symbol)
    return symbols


_DOCUMENTS = """
insert into documents (id, published_at, ingested_at, source, headline, lang, tickers, topic_id,
  topic, topic_confidence, sentiment, p_negative, p_neutral, p_positive, score, model)
select 'bench-' || g, pub, pub + make_interval(secs => 0.3 + 30 * power(r_lag, 4)),
  'wire-' || source, headline, 'en', tickers, topic_id, (cast(:topics as text[]))[topic_id + 1],
  0.4 + 0.6 * r_conf, (array['negative', 'neutral', 'positive'])[cls + 1],
  p[1], p[2], p[3], p[3] - p[1], (cast(:models as text[]))[model]
from (
  select g, r_lag, r_conf, source, topic_id, cls, model,
    cast(:start as timestamptz) + make_interval(days => day, secs => 86400 * tod) as pub,
    case cls when 0 then array[top, rest, 1 - top - rest]
             when 1 then array[rest, top, 1 - top - rest]
             else array[rest, 1 - top - rest, top] end as p,
    array(select distinct
            (cast(:tickers as text[]))[floor(power(cast(:n_tickers as float8) + 1, random()))::int]
          from generate_series(1, n_tickers_here)) as tickers,
    array_to_string(array(
      select (cast(:words as text[]))[floor(power(cast(:n_words as float8) + 1, random()))::int]
      from generate_series(1, n_words_here)), ' ')
      || case when r_phrase < 0.01
              then ' ' || (cast(:phrases as text[]))[1 + floor(r_phrase * 500)::int]
              else '' end as headline
  from (
    select g, cast(:day as int) as day, random() as r_lag, random() as r_conf, random() as r_phrase,
      1 + floor(random() * 12)::int as source,
      floor(20 * power(random(), 1.6))::int as topic_id,
      case when random() < 0.65
           then least(greatest(0.73 + 0.2 * (random() + random() + random() - 1.5), 0),
                      0.99999)
           else random() end as tod,
      (array[0, 1, 1, 2])[1 + floor(random() * 4)::int] as cls,
      1 + floor(power(random(), 3) * 3)::int as model,
      0.5 + 0.5 * random() as top, random() as r_rest,
      (array[0, 1, 1, 1, 2, 2, 3])[1 + floor(random() * 7)::int] as n_tickers_here,
      5 + floor(random() * 6)::int as n_words_here
    from generate_series(cast(:first as bigint), cast(:last as bigint)) as g
    offset 0
  ) drawn, lateral (select (1 - top) * r_rest as rest) split
  offset 0
) shaped
"""

_MINUTES = {
    "all": "select 'all', '', date_trunc('minute', published_at) as m, {counts} "
    "from documents group by m",
    "topic": "select 'topic', topic, date_trunc('minute', published_at) as m, {counts} "
    "from documents group by topic, m",
    "ticker": "select 'ticker', t, date_trunc('minute', published_at) as m, {counts} "
    "from documents, unnest(tickers) as t group by t, m",
}
_COUNTS = (
    "count(*) filter (where sentiment = 'negative'), count(*) filter (where sentiment = 'neutral'),"
    " count(*) filter (where sentiment = 'positive'), sum(score)"
)

_SERIES_SUM = (
    "select dimension, key, date_bin(interval '{step}', minute, :origin) as t, sum(n_negative), "
    "sum(n_neutral), sum(n_positive), sum(score_sum) from sentiment_minute group by 1, 2, 3 "
    "order by 3, 1, 2"
)
_INGEST_SUM = (
    "select date_bin(interval '{step}', ingested_at, :origin) as t, model, count(*), "
    "max(ingested_at) from documents group by 1, 2"
)
_ROLLUPS = (
    *(
        f"insert into sentiment_{name} (dimension, key, {name}, n_negative, n_neutral, n_positive, "
        f"score_sum) " + _SERIES_SUM.format(step=step)
        for name, step in (("hour", "1 hour"), ("day", "1 day"), ("week", "7 days"))
    ),
    *(
        f"insert into ingest_{name} ({name}, model, documents, last_ingested_at) "
        + _INGEST_SUM.format(step=step)
        for name, step in (("minute", "1 minute"), ("hour", "1 hour"), ("day", "1 day"))
    ),
    "insert into rollup_state (name) values (:name) on conflict (name) do nothing",
)

_REJECTED = """
insert into rejected_records (received_at, topic, kafka_partition, kafka_offset, reason, detail,
  size_bytes)
select cast(:start as timestamptz) + random() * cast(:span as interval), 'news.raw',
  g % 6, g, (cast(:reasons as text[]))[1 + floor(power(random(), 2) * 6)::int],
  'synthetic rejection ' || g, 20 + floor(random() * 4000)::int
from generate_series(1, cast(:rows as int)) as g
"""

_ALERTS = """
insert into alerts (rule, dimension, key, status, started_at, resolved_at, window_start,
  window_end, metric, observed, expected, baseline, deviation, volume, explanation, notified,
  clear_windows)
select 'ticker-negative-share', 'ticker', key, 'resolved', at, at + interval '20 minutes', at,
  at + interval '3 minutes', 'negative_share', 9, 2.5, 0.2, 5.1, 12, 'synthetic episode', true, 0
from (
  select
    (cast(:tickers as text[]))[floor(power(cast(:n_tickers as float8) + 1, random()))::int] as key,
    date_trunc('minute', cast(:start as timestamptz) + random() * cast(:span as interval)) as at
  from generate_series(1, cast(:rows as int))
) drawn
on conflict do nothing
"""


def generate(engine: Engine, args: argparse.Namespace) -> None:
    """Every table, step by step; a later table (a rollup) adds a step here."""
    # Whole UTC days ending at today's midnight, so the daily cycle sits on the clock.
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=args.days)
    vocab = vocabulary(np.random.default_rng(14))
    tickers = ticker_symbols(args.tickers)
    print(f"generating {args.documents:,} documents over {args.days} days, {args.tickers} tickers")
    began = time.perf_counter()
    with without_indexes(engine, "documents"):
        with step("documents"):
            documents(engine, args, start=start, tickers=tickers, words=vocab.words)
    with without_indexes(engine, "sentiment_minute", primary_key=True):
        with step("sentiment_minute (all, topic, ticker)"):
            sentiment_minute(engine, args.jobs)
    with step("hour/day/week rollups and ingest counters"):
        rollups(engine)
    with step("rejected_records"):
        rejected_records(engine, start=start, end=end, rows=3000)
    with step("alerts"):
        alerts(engine, start=start, end=end, tickers=tickers, rows=20 * args.days)
    with step("analyze"):
        analyze(engine)
    print(f"  {'generation in all':<44}{time.perf_counter() - began:>9.1f} s")


def documents(
    engine: Engine,
    args: argparse.Namespace,
    *,
    start: datetime,
    tickers: list[str],
    words: list[str],
) -> None:
    """One INSERT ... SELECT per day, `args.jobs` days at a time on their own connections."""
    per_day = args.documents / args.days
    common = {
        "topics": list(TOPICS),
        "models": list(MODELS),
        "tickers": tickers,
        "n_tickers": len(tickers),
        "words": words,
        "n_words": len(words),
        "phrases": list(PHRASES),
        "start": start,
    }

    def day(d: int) -> None:
        first, last = round(d * per_day) + 1, round((d + 1) * per_day)
        with engine.begin() as conn:
            _seed(conn, args.seed, d)
            conn.execute(text(_DOCUMENTS), common | {"day": d, "first": first, "last": last})

    parallel(args.jobs, day, range(args.days))


def sentiment_minute(engine: Engine, jobs: int) -> None:
    """Exactly what the worker's rollup would have counted, one GROUP BY per dimension into a
    staging table, then stored in time order: the worker adds each minute's rows as it goes, so
    a range's rows lie together (in hash order they would lie one per page)."""
    with engine.begin() as conn:
        conn.execute(text("create unlogged table minute_staging (like sentiment_minute)"))

    def dimension(name: str) -> None:
        with step(f"  sentiment_minute {name}"), engine.begin() as conn:
            conn.execute(text("set local timezone = 'UTC'"))
            conn.execute(text("set local work_mem = '256MB'"))  # hash the groups in memory
            conn.execute(
                text(
                    "insert into minute_staging (dimension, key, minute, n_negative, n_neutral, "
                    "n_positive, score_sum) " + _MINUTES[name].format(counts=_COUNTS)
                )
            )

    parallel(jobs, dimension, list(_MINUTES))
    with step("  sentiment_minute in time order"), engine.begin() as conn:
        conn.execute(text("set local work_mem = '256MB'"))
        conn.execute(
            text(
                "insert into sentiment_minute select * from minute_staging "
                "order by minute, dimension, key"
            )
        )
        conn.execute(text("drop table minute_staging"))


def rollups(engine: Engine) -> None:
    """The hour/day/week rollups and ingest counters the worker keeps (0005, 0009), summed in one
    statement each, then marked complete as `finsent db backfill-rollups` would."""
    with engine.begin() as conn:
        conn.execute(text("set local timezone = 'UTC'"))
        conn.execute(text("set local work_mem = '256MB'"))
        for statement in _ROLLUPS:
            conn.execute(text(statement), {"origin": ORIGIN, "name": BACKFILLED})


def rejected_records(engine: Engine, *, start: datetime, end: datetime, rows: int) -> None:
    with engine.begin() as conn:
        params = {"start": start, "span": end - start, "reasons": list(REASONS), "rows": rows}
        conn.execute(text(_REJECTED), params)


def alerts(
    engine: Engine, *, start: datetime, end: datetime, tickers: list[str], rows: int
) -> None:
    with engine.begin() as conn:
        params = {"start": start, "span": end - start, "rows": rows}
        conn.execute(text(_ALERTS), params | {"tickers": tickers, "n_tickers": len(tickers)})


def analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("analyze"))


def _seed(conn: Connection, seed: float, chunk: int) -> None:
    """A reproducible random() per chunk, whichever thread runs it."""
    conn.execute(text("select setseed(:s)"), {"s": ((seed + 1 + chunk * 0.0137) % 2) - 1})
