"""A real `finsent worker` process serves /metrics, /healthz and /readyz on its metrics port:
the counters follow the items it stores, and readiness drops when its database goes away."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable

import pytest

from monitor.storage.settings import MonitorSettings
from stream.broker import free_port
from stream.settings import StreamSettings
from tests.finsent.endpoints import drop_database, get, sample, wait_for_status
from tests.stream.helpers import headline_items, send_values, wait_for_count

pytestmark = pytest.mark.integration


def test_worker_serves_metrics_liveness_and_readiness(
    start_worker: Callable[..., subprocess.Popen[bytes]],
    stream_settings: StreamSettings,
    database: MonitorSettings,
) -> None:
    port = free_port()
    worker = start_worker(FINSENT_METRICS_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    ready = wait_for_status(f"{base}/readyz", 200, timeout_s=120)  # loading the model first
    assert ready.splitlines()[0] == "ok"
    assert {line.split(":")[0] for line in ready.splitlines()[1:]} == {"postgres", "kafka"}

    asyncio.run(send_values(stream_settings, headline_items(30)))
    assert wait_for_count(database, "select count(*) from documents", 30) == 30
    status, page = get(f"{base}/metrics")
    assert status == 200
    assert sample(page, "finsent_documents_new_total") == 30
    assert (sample(page, "finsent_items_in_total") or 0) >= 30
    assert (sample(page, "finsent_batch_size_count") or 0) >= 1
    assert (sample(page, "process_resident_memory_bytes") or 0) > 0
    assert get(f"{base}/healthz")[0] == 200

    drop_database(database)
    down = wait_for_status(f"{base}/readyz", 503, timeout_s=30)
    assert "postgres: unreachable" in down and "kafka: ok" in down
    assert "password" not in down
    status, live = get(f"{base}/healthz")  # alive all the same: restarting would not help
    assert status == 200 and live.startswith("ok")
    assert worker.poll() is None
