"""Dashboard and alert-evaluator read latency on a generated database (issue 14).

Generates N documents over D days inside PostgreSQL (INSERT ... SELECT from generate_series, one
function per table, so later tables such as rollups slot in as another step), then times every
query the dashboard makes through `dashboard/data.py` at 1 h / 1 day / 30 days / 90 days ending
at the newest data (median of 3 after one warm-up), and the alert evaluator's per-cycle reads
for a ticker rule watching `--watched` tickers: a full-horizon read and an incremental one.

    .venv/bin/python bench/bench_queries.py [--documents 2000000] [--days 30] [--tickers 2000]
        [--watched 5000] [--jobs 2] [--keep | --reuse NAME] [--json PATH]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth). The database is dropped at the end unless
--keep; --reuse NAME times an existing one without generating it again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command  # noqa: E402

from bench.query_data import generate, vocabulary  # noqa: E402
from dashboard.transforms import bucket_for  # noqa: E402
from migrations import alembic_config  # noqa: E402
from monitor.alerting.detector import history_needed, step_floor  # noqa: E402
from monitor.alerting.rules import Rule, load_rules  # noqa: E402
from monitor.alerting.series import watermark  # noqa: E402
from monitor.alerting.series_cache import SeriesCache  # noqa: E402
from monitor.storage import alert_queries, headline_queries, queries  # noqa: E402
from monitor.storage.headline_queries import HeadlineFilter  # noqa: E402
from monitor.storage.queries import TimeRange  # noqa: E402
from monitor.storage.settings import MonitorSettings  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RANGES = {
    "1 h": timedelta(hours=1),
    "1 day": timedelta(days=1),
    "30 days": timedelta(days=30),
    "90 days": timedelta(days=90),
}
LATENESS = timedelta(seconds=60)  # the alerter's default
REPEATS = 3

Query = Callable[[Session, TimeRange, timedelta], object]


def database_url(name: str) -> str:
    return SERVER.rsplit("/", 1)[0] + "/" + name


@contextmanager
def database(args: argparse.Namespace) -> Iterator[Engine]:
    """The database to time: `--reuse`d, or a fresh one that is generated (and dropped)."""
    name = args.reuse or f"finsent_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    if not args.reuse:
        with admin.connect() as conn:
            conn.execute(text(f'create database "{name}"'))
    print(f"database {name}")
    engine = create_engine(database_url(name), pool_size=max(args.jobs, 1))
    try:
        if not args.reuse:
            command.upgrade(
                alembic_config(MonitorSettings(database_url=database_url(name))), "head"
            )
            generate(engine, args)
        yield engine
    finally:
        engine.dispose()
        if not args.reuse and not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'drop database if exists "{name}" with (force)'))
            print(f"dropped {name} (--keep keeps it)")
        admin.dispose()


def median_ms(engine: Engine, run: Callable[[Session], object]) -> float:
    """Median of REPEATS timed calls after one warm-up, each in a fresh session like the
    dashboard's."""
    samples = []
    for i in range(REPEATS + 1):
        with Session(engine) as session:
            started = time.perf_counter()
            run(session)
            if i:
                samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def dashboard_queries(busiest: str, words: dict[str, str]) -> dict[str, Query]:
    """Every query the pages make, with the buckets they use for a span."""

    def headlines(limit: int, **filters: Any) -> Query:
        return lambda s, r, _: headline_queries.headlines(
            session=s, flt=HeadlineFilter(time_range=r, **filters), limit=limit
        )

    def second_page(limit: int) -> Query:
        def run(s: Session, r: TimeRange, _: timedelta) -> object:
            flt = HeadlineFilter(time_range=r)
            first = headline_queries.headlines(session=s, flt=flt, limit=limit)
            return headline_queries.headlines(session=s, flt=flt, limit=limit, after=first.next)

        return run

    def count(**filters: Any) -> Query:
        return lambda s, r, _: headline_queries.count_headlines(
            session=s, flt=HeadlineFilter(time_range=r, **filters)
        )

    def series(dimension: str, points: int, keys: tuple[str, ...] | None = None) -> Query:
        return lambda s, r, span: queries.sentiment_series(
            session=s,
            dimension=dimension,
            time_range=r,
            bucket=bucket_for(span, max_points=points),
            keys=keys,
        )

    found: dict[str, Query] = {
        "overview series (all)": series("all", 120),
        "topic heat map (topic)": series("topic", 60),
        "topic lines (2 topics)": series("topic", 120, ("Earnings", "Macro")),
        f"ticker series (${busiest})": series("ticker", 120, (busiest,)),
        "busiest tickers (top_keys)": lambda s, r, _: queries.top_keys(
            session=s, dimension="ticker", time_range=r
        ),
        "ticker search 'AB' (top_keys)": lambda s, r, _: queries.top_keys(
            session=s, dimension="ticker", time_range=r, contains="AB"
        ),
        "topic volume (top_keys)": lambda s, r, _: queries.top_keys(
            session=s, dimension="topic", time_range=r, limit=20
        ),
        "latest headlines (15)": headlines(15),
        f"headlines of ${busiest}": headlines(50, ticker=busiest),
        "headlines, pages 1 and 2 (50 each)": second_page(50),
        "headline count (paging, capped)": count(),
    }
    for kind, word in words.items():
        found[f"headline search {kind} '{word}'"] = headlines(50, text=word)
        found[f"headline count {kind} '{word}'"] = count(text=word)
    found |= {
        "items stored per bucket": lambda s, r, span: queries.ingest_series(
            session=s, time_range=r, bucket=bucket_for(span)
        ),
        "rejected by reason": lambda s, r, _: queries.rejected_by_reason(session=s, time_range=r),
        "alerts in range": lambda s, r, _: alert_queries.alerts(session=s, time_range=r),
    }
    return found


UNRANGED: dict[str, Callable[[Session], object]] = {
    "pipeline totals (pipeline_status + model_usage)": lambda s: (
        queries.pipeline_status(session=s),
        queries.model_usage(session=s),
    ),
    "history start": lambda s: queries.history_start(session=s),
    "latest minute (range anchor)": lambda s: queries.latest_minute(session=s),
    "firing alerts": lambda s: alert_queries.alerts(session=s, status="firing"),
}


def time_dashboard(engine: Engine, busiest: str, words: dict[str, str]) -> dict[str, Any]:
    with Session(engine) as session:
        latest = queries.latest_minute(session=session)
    if latest is None:
        raise SystemExit("the database holds no documents")
    end = latest + timedelta(minutes=1)
    table: dict[str, dict[str, float]] = {}
    for name, query in dashboard_queries(busiest, words).items():
        table[name] = {
            label: median_ms(
                engine, lambda s, q=query, span=span: q(s, TimeRange(end - span, end), span)
            )
            for label, span in RANGES.items()
        }
        print(f"  {name:<48}" + "".join(f"{table[name][r]:>10.1f}" for r in RANGES), flush=True)
    unranged = {name: median_ms(engine, run) for name, run in UNRANGED.items()}
    return {"ranged": table, "unranged": unranged}


def watched_rule(engine: Engine, watched: int) -> tuple[Rule, Rule]:
    """The shipped ticker rule (every ticker), and a copy listing the `watched` busiest."""
    (shipped,) = (r for r in load_rules() if r.dimension == "ticker")
    with engine.connect() as conn:
        keys = conn.scalars(
            text(
                "select key from sentiment_minute where dimension = 'ticker' "
                "group by key order by sum(n_negative + n_neutral + n_positive) desc limit :n"
            ),
            {"n": watched},
        ).all()
    padding = [f"ZZ{i:05d}" for i in range(watched - len(keys))]  # watched, never mentioned
    listed = shipped.model_copy(update={"name": "watched", "keys": tuple(keys) + tuple(padding)})
    return shipped, listed


def time_evaluator(engine: Engine, watched: int) -> dict[str, float]:
    """The per-cycle reads of a ticker rule: the watermark, a read of the whole baseline horizon
    (first cycle, hourly refresh), and an incremental read one minute on."""
    with Session(engine) as session:
        mark = watermark(session=session, lateness=LATENESS)
    if mark is None:
        raise SystemExit("the database holds no documents")
    found = {
        "watermark (max published_at)": median_ms(
            engine, lambda s: watermark(session=s, lateness=LATENESS)
        )
    }
    minute = timedelta(minutes=1)
    for label, rule in zip(
        ("every ticker", f"{watched} listed"), watched_rule(engine, watched), strict=True
    ):
        until = step_floor(mark, rule.step)
        since = until - history_needed(rule)

        def full_read(
            s: Session, rule: Rule = rule, since: Any = since, until: Any = until
        ) -> SeriesCache:
            cache = SeriesCache(rule)  # a new cache's first read covers the whole horizon
            cache.read(session=s, since=since, until=until)
            return cache

        found[f"full horizon read, ticker rule, {label}"] = median_ms(engine, full_read)
        with Session(engine) as session:
            found[f"  rows per full read, {label}"] = float(full_read(session).rows_read)
        samples, rows = [], []
        for _ in range(REPEATS):
            cache = SeriesCache(
                rule, reread=LATENESS + rule.window, full_read_every=timedelta(days=1)
            )
            with Session(engine) as session:
                cache.read(session=session, since=since - minute, until=until - minute)
                started = time.perf_counter()
                cache.read(session=session, since=since, until=until)
                samples.append((time.perf_counter() - started) * 1000)
                rows.append(cache.rows_read)
        found[f"incremental read, ticker rule, {label}"] = statistics.median(samples)
        found[f"  rows per incremental read, {label}"] = float(rows[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--tickers", type=int, default=2_000)
    parser.add_argument("--watched", type=int, default=5_000)
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--seed", type=float, default=0.14, help="setseed() value, -1..1")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--reuse", metavar="NAME", help="time this database, generate nothing")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--generate-only", action="store_true", help="generate and keep the database, time nothing"
    )
    args = parser.parse_args()
    args.keep = args.keep or args.generate_only
    words = vocabulary(np.random.default_rng(14)).probes
    with database(args) as engine:
        if args.generate_only:
            return
        with engine.connect() as conn:
            busiest = conn.scalar(
                text(
                    "select key from sentiment_minute where dimension = 'ticker' group by key "
                    "order by sum(n_negative + n_neutral + n_positive) desc limit 1"
                )
            )
        print("\ndashboard queries, ms (median of 3 after a warm-up)")
        print(f"  {'query':<48}" + "".join(f"{r:>10}" for r in RANGES))
        dashboard = time_dashboard(engine, busiest or "", words)
        for name, ms in dashboard["unranged"].items():
            print(f"  {name:<48}{ms:>10.1f}  (no range)")
        print("\nalert evaluator, per-cycle reads (median of 3)")
        evaluator = time_evaluator(engine, args.watched)
        for name, value in evaluator.items():
            unit = "rows" if "rows" in name else "ms"
            print(f"  {name:<52}{value:>10.1f} {unit}")
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k != "json"}
        result = {"settings": settings, "dashboard": dashboard, "evaluator": evaluator}
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
