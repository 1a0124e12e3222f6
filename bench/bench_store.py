"""Documents stored per second through the worker's write path (`write_batch`: COPY, insert,
rollups, the search-vector trigger and every index), at one or more migration revisions.

Each revision gets a fresh database; the rounds alternate between them and the median is quoted,
so all see the same machine. Headlines are synthetic, 8-16 words from a seeded vocabulary. This
code writes the tables of its own head revision, so an older revision can only be measured where
it has every one of them (0008 lacks `sentiment_week`): to compare two versions of the code, run
each from its own checkout, alternately, at its head.

    .venv/bin/python bench/bench_store.py [--documents 30000] [--batch 512] [--rounds 3]
        [--revisions head]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth); the databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command  # noqa: E402

from migrations import alembic_config  # noqa: E402
from monitor.storage.ingest import ScoredDocument, write_batch  # noqa: E402
from monitor.storage.settings import MonitorSettings  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WORDS = (
    "shares fall rise after profit warning guidance cut raised bank rate fed quarter results "
    "record revenue misses beats estimates chipmaker supply chain buyback dividend outlook weak "
    "strong demand analyst downgrade upgrade merger deal talks regulator probe lawsuit settles"
).split()


def documents(rng: random.Random, n: int, start: datetime) -> list[ScoredDocument]:
    return [
        ScoredDocument(
            id=f"doc-{rng.getrandbits(64):016x}",
            published_at=start + timedelta(seconds=rng.randrange(86_400)),
            source="wire",
            headline=" ".join(rng.choices(WORDS, k=rng.randrange(8, 17))).capitalize(),
            body=None,
            url=None,
            lang="en",
            tickers=rng.sample(["AAPL", "MSFT", "NVDA", "NWF", "BRK.B"], rng.randrange(3)),
            topic_id=0,
            topic="Markets",
            topic_confidence=0.9,
            sentiment="neutral",
            p_negative=0.1,
            p_neutral=0.8,
            p_positive=0.1,
            score=0.0,
            model="bench",
            kafka_partition=0,
            kafka_offset=i,
        )
        for i in range(n)
    ]


def store_rate(engine: Engine, docs: list[ScoredDocument], batch: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(docs), batch):
        write_batch(engine, docs[i : i + batch], [])
    return len(docs) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--revisions", nargs="+", default=["head"])
    args = parser.parse_args()

    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    names = {rev: f"finsent_store_{uuid.uuid4().hex[:8]}" for rev in args.revisions}
    engines: dict[str, Engine] = {}
    try:
        for rev, name in names.items():
            with admin.connect() as conn:
                conn.execute(text(f'create database "{name}"'))
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
            command.upgrade(alembic_config(MonitorSettings(database_url=url)), rev)
            engines[rev] = create_engine(url)
        rates: dict[str, list[float]] = {rev: [] for rev in args.revisions}
        start = datetime(2026, 11, 1, tzinfo=UTC)
        for r in range(args.rounds):
            for rev in args.revisions:  # the same documents, each round new ids and a new day
                docs = documents(random.Random(r), args.documents, start + timedelta(days=r))
                rates[rev].append(store_rate(engines[rev], docs, args.batch))
                print(f"  round {r + 1} {rev:>6}: {rates[rev][-1]:8.0f} documents/s", flush=True)
        for rev in args.revisions:
            print(f"{rev:>6}: median {statistics.median(rates[rev]):8.0f} documents/s")
    finally:
        for engine in engines.values():
            engine.dispose()
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


if __name__ == "__main__":
    main()
