"""Worker throughput and latency, side by side in one run (issue 4's benchmark).

(a) the worker with the CPU model, (b) the worker with precomputed outputs (pipeline only),
(c) the usual per-message faust agent: one event -> score -> single-row insert.
Also the scorer alone on the same texts, the ceiling for (a), and the worker's memory (RSS) over
a backlog (bench/worker_rss.py).

    .venv/bin/python bench/bench_worker.py [--items-model 3000] [--items-fixed 50000]
    # a smoke run, about a minute:
    .venv/bin/python bench/bench_worker.py --items-model 200 --items-fixed 3000 \
        --latency-seconds 5 --rss-seconds 20 --skip-faust

Needs PostgreSQL on 127.0.0.1:5432 (trust auth); starts its own Tansu broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command  # noqa: E402

from bench.fixed_scorer import FixedScorer  # noqa: E402
from migrations import alembic_config  # noqa: E402
from model.scorer import Document, Scorer  # noqa: E402
from model.settings import ModelSettings  # noqa: E402
from monitor.storage.db import make_engine  # noqa: E402
from monitor.storage.settings import MonitorSettings  # noqa: E402
from stream import metrics  # noqa: E402
from stream.broker import EmbeddedBroker  # noqa: E402
from stream.kafka import ensure_topics, open_producer  # noqa: E402
from stream.settings import StreamSettings  # noqa: E402
from stream.synthetic import FeedPlan, synthetic_feed  # noqa: E402
from stream.worker import BatchScorer, Worker  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_database() -> MonitorSettings:
    name = f"finsent_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    admin.dispose()
    settings = MonitorSettings(database_url=SERVER.rsplit("/", 1)[0] + "/" + name)
    command.upgrade(alembic_config(settings), "head")
    return settings


def drop_database(settings: MonitorSettings) -> None:
    url = make_url(settings.sqlalchemy_url)
    admin = create_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{url.database}" with (force)'))
    admin.dispose()


def fresh_topics(bootstrap: str, batch: int) -> StreamSettings:
    suffix = uuid.uuid4().hex[:8]
    return StreamSettings(
        kafka_bootstrap=bootstrap,
        topic_raw=f"bench.raw.{suffix}",
        topic_scored=f"bench.scored.{suffix}",
        topic_dlq=f"bench.dlq.{suffix}",
        topic_alerts=f"bench.alerts.{suffix}",
        consumer_group=f"bench-{suffix}",
        session_timeout_ms=6000,
        max_batch=batch,
    )


def items(n: int) -> list[dict[str, object]]:
    plan = FeedPlan(datetime(2026, 6, 1, tzinfo=UTC), spacing_s=0.5, count=n, seed=11)
    return list(synthetic_feed(plan))


async def produce(settings: StreamSettings, feed: list[dict[str, object]], rate: float = 0) -> None:
    await ensure_topics(settings)
    async with open_producer(settings, linger_ms=10) as producer:
        pending = []
        started = time.monotonic()
        for i, item in enumerate(feed):
            if rate:
                ahead = started + i / rate - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
                item = {**item, "published_at": datetime.now(UTC).isoformat()}
            pending.append(await producer.send(settings.topic_raw, json.dumps(item).encode()))
        await asyncio.gather(*pending)


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("select count(*) from documents")) or 0)


def items_in() -> float:
    """Records the worker in this process has fetched so far."""
    return REGISTRY.get_sample_value("finsent_items_in_total") or 0.0


def latencies(engine: Engine) -> list[float]:
    """Seconds from the producer's timestamp (published_at) to the storing transaction."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("select extract(epoch from ingested_at - published_at) from documents")
        ).scalars()
        return sorted(float(r) for r in rows)


async def wait_stored(engine: Engine, n: int, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while (count := stored(engine)) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {count} of {n} stored")
        await asyncio.sleep(0.05)


async def throughput(bootstrap: str, scorer: BatchScorer, n: int, batch: int) -> float:
    """Pre-fill the topic, then let one worker drain it; items/s from its first fetch until all
    were seen stored (polled every 50 ms: use enough items for a run of several seconds)."""
    settings, database = fresh_topics(bootstrap, batch), fresh_database()
    await produce(settings, items(n))
    engine = make_engine(database)
    stop = asyncio.Event()
    before = items_in()
    task = asyncio.create_task(Worker(settings, engine, scorer).run(stop))
    while items_in() == before:  # the group's first join
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await wait_stored(engine, n)
    rate = n / (time.monotonic() - started)
    stop.set()
    await task
    engine.dispose()
    drop_database(database)
    return rate


def commit_buckets() -> dict[float, float]:
    """The worker's ingest-to-commit histogram (this process): cumulative count per bound."""
    (family,) = metrics.INGEST_TO_COMMIT.collect()
    return {float(s.labels["le"]): s.value for s in family.samples if s.name.endswith("_bucket")}


def p99_bound(before: dict[float, float], after: dict[float, float]) -> float:
    """The smallest histogram bound that 99% of the records committed between the two reads
    stayed under."""
    counts = {bound: after[bound] - before.get(bound, 0.0) for bound in sorted(after)}
    total = counts[float("inf")]
    return next(bound for bound, n in counts.items() if n >= 0.99 * total)


async def latency(bootstrap: str, scorer: BatchScorer, rate: float, seconds: float, batch: int):
    """p50 and p99 from the producer's timestamp to the storing transaction, and the bucket
    bound the worker's own ingest-to-commit histogram puts p99 under."""
    settings, database = fresh_topics(bootstrap, batch), fresh_database()
    before = commit_buckets()
    await ensure_topics(settings)
    engine = make_engine(database)
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(settings, engine, scorer).run(stop))
    await asyncio.sleep(5)  # the group's first join (session timeout / 2 on Tansu)
    n = int(rate * seconds)
    await produce(settings, items(n), rate=rate)
    await wait_stored(engine, n)
    stop.set()
    await task
    values = latencies(engine)
    engine.dispose()
    drop_database(database)
    bound = p99_bound(before, commit_buckets())
    return values[len(values) // 2], values[int(len(values) * 0.99)], bound


def scorer_alone(scorer: Scorer, n: int, repeats: int = 3) -> float:
    docs = [Document(str(i["headline"])) for i in items(n)]
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        scorer.score_documents(docs)
        rates.append(n / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items-model", type=int, default=3000)
    parser.add_argument("--items-fixed", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument("--rss-seconds", type=float, default=300, help="0 skips the RSS run")
    parser.add_argument("--rss-rate", type=float, help="items/s to queue for (default: (a))")
    parser.add_argument("--skip-faust", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    model = Scorer.from_settings(ModelSettings())
    rows = []
    rss = None
    with EmbeddedBroker() as broker:
        ceiling = scorer_alone(model, args.items_model)
        rows.append(("scorer alone (int8, CPU)", ceiling, None, None, None))
        a = asyncio.run(throughput(broker.bootstrap, model, args.items_model, args.batch))
        a_lat = asyncio.run(
            latency(broker.bootstrap, model, a / 2, args.latency_seconds, args.batch)
        )
        rows.append(("(a) worker, CPU model", a, *a_lat))
        fixed = FixedScorer()
        b = asyncio.run(throughput(broker.bootstrap, fixed, args.items_fixed, args.batch))
        b_lat = asyncio.run(
            latency(broker.bootstrap, fixed, b / 2, args.latency_seconds, args.batch)
        )
        rows.append(("(b) worker, precomputed outputs", b, *b_lat))
        if not args.skip_faust:
            from bench.faust_baseline import run_baseline

            rows.append(
                ("(c) per-message faust agent, CPU model", *run_baseline(broker, model), None)
            )
        if args.rss_seconds > 0:
            from bench.worker_rss import rss_run

            rss = rss_run(broker.bootstrap, args.rss_seconds, args.rss_rate or a, args.batch)
    print(f"{'variant':44} {'items/s':>9} {'p50 s':>7} {'p99 s':>7} {'p99 commit':>11}")
    for name, rate, p50, p99, bound in rows:
        times = [f"{v:7.3f}" if v is not None else f"{'-':>7}" for v in (p50, p99)]
        commit = f"<= {bound:g} s" if bound is not None else "-"
        print(f"{name:44} {rate:9.0f} {' '.join(times)} {commit:>11}")
    print(f"(a) / scorer alone: {a / ceiling:.2f}")
    print("p50/p99: producer timestamp to storing transaction, at half the measured rate;")
    print("p99 commit: the worker's ingest-to-commit histogram bucket holding 99% of records")
    if rss is not None:
        print(rss.summary())


if __name__ == "__main__":
    main()
