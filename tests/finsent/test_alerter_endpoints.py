"""The alerter's /metrics, /healthz and /readyz against real services: a burst fires and resolves
one alert, delivered to a real receiver and to Kafka, and the metrics say so; readiness drops
when the database goes away. `finsent alerter` serves the same endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from finsent.alerter import AlerterSettings, run_alerter
from finsent.observability import MetricsSettings
from monitor.storage.settings import MonitorSettings
from stream.broker import free_port
from stream.settings import StreamSettings
from tests.finsent.endpoints import drop_database, get, sample, wait_for_sample, wait_for_status
from tests.monitor.alerting.test_evaluator import (
    END_MIN,
    HISTORY_MIN,
    RULES,
    Receiver,
    alerter_settings,
    seed,
)

pytestmark = pytest.mark.integration

RULE = "topic-negative-share"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(free_port()).start()
    yield running
    running.stop()


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    return path


@pytest.fixture
def start_alerter() -> Iterator[Callable[[AlerterSettings], None]]:
    """Factory: `run_alerter` in a thread, stopped (and its endpoint closed) at the end."""
    running: list[tuple[threading.Event, threading.Thread]] = []

    def start(settings: AlerterSettings) -> None:
        stop = threading.Event()
        thread = threading.Thread(target=run_alerter, args=(settings, stop), daemon=True)
        thread.start()
        running.append((stop, thread))

    yield start
    for stop, _ in running:
        stop.set()
    for _, thread in running:
        thread.join(timeout=15)
        assert not thread.is_alive()


def test_alerter_metrics_follow_an_alert_and_readiness_the_database(
    database: MonitorSettings,
    stream_settings: StreamSettings,
    rules_file: Path,
    receiver: Receiver,
    start_alerter: Callable[[AlerterSettings], None],
) -> None:
    port = free_port()
    metrics = MetricsSettings(metrics_address="127.0.0.1", alerter_metrics_port=port)
    settings = alerter_settings(database, rules_file, [receiver.url], stream_settings)
    seed(database, range(HISTORY_MIN))  # the quiet baseline
    receiver.statuses[:] = [500]  # the firing webhook needs a second attempt
    start_alerter(replace(settings, metrics=metrics))
    base = f"http://127.0.0.1:{port}"
    ready = wait_for_status(f"{base}/readyz", 200, timeout_s=30)
    assert [line.split(":")[0] for line in ready.splitlines()[1:]] == ["postgres", "kafka"]
    page = wait_for_sample(f"{base}/metrics", "finsent_alerter_leader", 1)
    assert sample(page, "finsent_alerter_alerts_fired_total", rule=RULE) == 0

    seed(database, range(HISTORY_MIN, END_MIN))  # the burst and the recovery
    page = wait_for_sample(
        f"{base}/metrics", "finsent_alerter_delivery_attempts_total", 4, outcome="delivered"
    )
    assert sample(page, "finsent_alerter_alerts_fired_total", rule=RULE) == 1
    assert sample(page, "finsent_alerter_alerts_resolved_total", rule=RULE) == 1
    assert sample(page, "finsent_alerter_delivery_attempts_total", outcome="retry") == 1
    assert sample(page, "finsent_alerter_delivery_attempts_total", outcome="failed") == 0
    assert (sample(page, "finsent_alerter_evaluations_total") or 0) >= 2
    page = wait_for_sample(f"{base}/metrics", "finsent_alerter_outbox_pending", 0)
    assert sample(page, "finsent_alerter_outbox_given_up") == 0
    assert sample(page, "finsent_alerter_outbox_oldest_pending_seconds") == 0
    # Caught up: the cursor trails the watermark by less than the rule's one-minute step.
    lag = sample(page, "finsent_alerter_rule_lag_seconds", rule=RULE)
    assert lag is not None and 0 <= lag < 60
    assert len(receiver.accepted()) == 2

    drop_database(database)
    down = wait_for_status(f"{base}/readyz", 503, timeout_s=30)
    assert "postgres: unreachable" in down and "kafka: ok" in down
    assert get(f"{base}/healthz")[0] == 200
    wait_for_sample(f"{base}/metrics", "finsent_alerter_leader", 0)


def test_finsent_alerter_serves_the_endpoint_on_its_own_port(
    database: MonitorSettings, rules_file: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "FINSENT_DATABASE_URL": database.sqlalchemy_url,
        "FINSENT_RULES": str(rules_file),
        "FINSENT_WEBHOOK_URLS": "",
        "FINSENT_ALERTER_METRICS_PORT": str(port),
    }
    with (tmp_path / "alerter.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "finsent", "alerter", "--no-kafka"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            ready = wait_for_status(f"{base}/readyz", 200, timeout_s=60)
            lines = ready.splitlines()  # with --no-kafka, no Kafka to be ready for
            assert len(lines) == 2 and lines[1].startswith("postgres: ok")
            page = wait_for_sample(f"{base}/metrics", "finsent_alerter_leader", 1)
            assert sample(page, "finsent_alerter_alerts_fired_total", rule=RULE) == 0
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert process.returncode == 0, (tmp_path / "alerter.log").read_text()
