"""Worker fixtures: run `finsent worker` as a real process (helpers to feed and watch it are in
`tests/stream/helpers.py`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.storage.settings import MonitorSettings
from stream.settings import StreamSettings


def worker_env(stream: StreamSettings, database: MonitorSettings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "FINSENT_KAFKA_BOOTSTRAP": stream.kafka_bootstrap,
        "FINSENT_DATABASE_URL": database.sqlalchemy_url,
        "FINSENT_TOPIC_RAW": stream.topic_raw,
        "FINSENT_TOPIC_SCORED": stream.topic_scored,
        "FINSENT_TOPIC_DLQ": stream.topic_dlq,
        "FINSENT_TOPIC_ALERTS": stream.topic_alerts,
        "FINSENT_TOPIC_PARTITIONS": str(stream.topic_partitions),
        "FINSENT_CONSUMER_GROUP": stream.consumer_group,
        "FINSENT_SESSION_TIMEOUT_MS": "6000",
        "FINSENT_METRICS_PORT": "0",
        "FINSENT_MAX_BATCH": "128",
    }
    env.update(extra)
    return env


@pytest.fixture
def start_worker(
    stream_settings: StreamSettings, database: MonitorSettings, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Factory: start `finsent worker` processes on this test's topics and database."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "finsent", "worker"],
            env=worker_env(stream_settings, database, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
