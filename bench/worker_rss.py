"""The worker's memory under a backlog, for bench/bench_worker.py: a real `finsent worker` process
drains a topic filled with more than it can handle in the run, its RSS read from /proc."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_worker import drop_database, fresh_database, fresh_topics, items, produce, stored
from monitor.storage.db import make_engine
from stream.settings import StreamSettings

_STARTUP_TIMEOUT_S = 180  # the model loads and the group's first join happens before any work


@dataclass(frozen=True, slots=True)
class RssSample:
    seconds: float
    rss_bytes: int
    stored: int


@dataclass(frozen=True, slots=True)
class RssRun:
    queued: int
    samples: list[RssSample]

    def summary(self) -> str:
        mib = [s.rss_bytes / 2**20 for s in self.samples]
        first, middle, last = self.samples[0], self.samples[len(mib) // 2], self.samples[-1]
        rate = (last.stored - first.stored) / max(last.seconds - first.seconds, 1e-3)
        line = (
            f"worker RSS over {last.seconds:.0f} s of backlog ({self.queued:,} items queued, "
            f"{last.stored:,} stored, {rate:,.0f} items/s): start {mib[0]:.0f} MiB, "
            f"middle {mib[len(mib) // 2]:.0f} MiB (at {middle.seconds:.0f} s), "
            f"end {mib[-1]:.0f} MiB, max {max(mib):.0f} MiB"
        )
        if last.stored >= self.queued:
            line += "\n  (the backlog ran out before the end: raise --rss-rate)"
        return line


def rss_of(pid: int) -> int:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def worker_env(stream: StreamSettings, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FINSENT_KAFKA_BOOTSTRAP": stream.kafka_bootstrap,
        "FINSENT_DATABASE_URL": database_url,
        "FINSENT_TOPIC_RAW": stream.topic_raw,
        "FINSENT_TOPIC_SCORED": stream.topic_scored,
        "FINSENT_TOPIC_DLQ": stream.topic_dlq,
        "FINSENT_TOPIC_ALERTS": stream.topic_alerts,
        "FINSENT_CONSUMER_GROUP": stream.consumer_group,
        "FINSENT_SESSION_TIMEOUT_MS": str(stream.session_timeout_ms),
        "FINSENT_MAX_BATCH": str(stream.max_batch),
        "FINSENT_METRICS_PORT": "0",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }


def rss_run(bootstrap: str, seconds: float, rate: float, batch: int) -> RssRun:
    """Queue `rate * seconds * 1.5` items, run the worker for `seconds`, sample its RSS."""
    settings, database = fresh_topics(bootstrap, batch), fresh_database()
    queued = int(rate * seconds * 1.5) + batch
    asyncio.run(produce(settings, items(queued)))
    engine = make_engine(database)
    interval = max(1.0, seconds / 60)
    with tempfile.TemporaryFile() as log:
        worker = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "finsent", "worker"],
            env=worker_env(settings, database.sqlalchemy_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + _STARTUP_TIMEOUT_S
            while stored(engine) == 0:
                if worker.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the worker did not start:\n{log.read().decode()[-2000:]}")
                time.sleep(0.2)
            started = time.monotonic()
            samples: list[RssSample] = []
            while (elapsed := time.monotonic() - started) < seconds:
                samples.append(RssSample(elapsed, rss_of(worker.pid), stored(engine)))
                time.sleep(min(interval, max(seconds - elapsed, 0.01)))
            samples.append(
                RssSample(time.monotonic() - started, rss_of(worker.pid), stored(engine))
            )
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
    engine.dispose()
    drop_database(database)
    return RssRun(queued, samples)
