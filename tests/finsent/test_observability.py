"""The metrics and health endpoint without services: its settings, the liveness and readiness
verdicts on a controlled clock, and the real HTTP server with probes that answer as told."""

from __future__ import annotations

import asyncio
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from finsent.errors import format_settings_error
from finsent.exceptions import MetricsUnavailable
from finsent.health import LIVE_WITHIN_S, READY_WITHIN_S, Health
from finsent.observability import MetricsSettings, exposed
from stream.broker import free_port

# --- settings ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_metrics_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ADDRESS", "HOST", "PORT"):
        monkeypatch.delenv(f"FINSENT_METRICS_{name}", raising=False)
    monkeypatch.delenv("FINSENT_ALERTER_METRICS_PORT", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the working tree


def test_defaults_listen_on_loopback_with_a_port_per_process() -> None:
    settings = MetricsSettings()
    assert settings.metrics_address == "127.0.0.1"
    assert (settings.metrics_port, settings.alerter_metrics_port) == (9464, 9465)


def test_the_old_host_setting_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_METRICS_HOST", "10.1.2.3")
    assert MetricsSettings().metrics_address == "10.1.2.3"
    monkeypatch.setenv("FINSENT_METRICS_ADDRESS", "10.1.2.3")
    assert MetricsSettings().metrics_address == "10.1.2.3"


def test_an_empty_old_host_sets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_METRICS_HOST", "")
    assert MetricsSettings().metrics_address == "127.0.0.1"


def test_old_and_new_address_disagreeing_is_one_line_naming_the_rename(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FINSENT_METRICS_HOST", "10.1.2.3")
    monkeypatch.setenv("FINSENT_METRICS_ADDRESS", "10.0.0.5")
    with pytest.raises(ValidationError) as raised:
        MetricsSettings()
    message = format_settings_error(raised.value)
    assert message.startswith("FINSENT_METRICS_HOST: ")
    assert "renamed FINSENT_METRICS_ADDRESS" in message and "'10.0.0.5'" in message


def test_a_port_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_ALERTER_METRICS_PORT", "70000")
    with pytest.raises(ValidationError, match="alerter_metrics_port"):
        MetricsSettings()


# --- verdicts ----------------------------------------------------------------------------------


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def test_live_while_the_loop_beats() -> None:
    clock = Clock()
    health = Health(("postgres",), clock=clock)
    assert not health.liveness().ok
    health.beat()
    clock.now += LIVE_WITHIN_S - 1
    assert health.liveness().ok
    clock.now += 2
    verdict = health.liveness()
    assert not verdict.ok and "stalled" in verdict.lines[0]


def test_ready_only_while_every_dependency_answered_its_latest_probe_lately() -> None:
    clock = Clock()
    health = Health(("postgres", "kafka"), clock=clock)
    assert health.readiness().lines == ("postgres: not checked yet", "kafka: not checked yet")
    health.answered("postgres")
    assert not health.readiness().ok  # kafka not yet
    health.answered("kafka")
    assert health.readiness().ok
    health.answered("postgres", "connection refused")
    verdict = health.readiness()
    assert not verdict.ok
    assert verdict.lines[0].startswith("postgres: unreachable (connection refused)")
    health.answered("postgres")
    clock.now += READY_WITHIN_S + 1  # the prober stopped answering
    verdict = health.readiness()
    assert not verdict.ok and verdict.lines[1].startswith("kafka: not checked for")


# --- the server --------------------------------------------------------------------------------


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback http
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


async def wait_until(url: str, status: int, timeout_s: float = 10.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        code, body = await asyncio.to_thread(get, url)
        if code == status:
            return body
        assert asyncio.get_running_loop().time() < deadline, f"{url}: {code} {body}"
        await asyncio.sleep(0.1)


async def answers() -> None:
    return None


async def refuses() -> None:
    raise ConnectionRefusedError("broker at 127.0.0.1:1 refused the connection")


async def test_the_endpoint_serves_metrics_liveness_and_readiness() -> None:
    registry = CollectorRegistry()
    Counter("finsent_test_things", "Things", registry=registry).inc(3)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    probes = {"postgres": answers, "kafka": refuses}
    async with exposed(
        "127.0.0.1", port, setting="FINSENT_METRICS_PORT", registry=registry, probes=probes
    ) as health:
        assert health is not None
        status, metrics = await asyncio.to_thread(get, f"{base}/metrics")
        assert status == 200 and "finsent_test_things_total 3.0" in metrics
        assert (await wait_until(f"{base}/healthz", 200)).startswith("ok\nevent loop: turned")
        body = await wait_until(f"{base}/readyz", 503)
        assert body.startswith("not ok\npostgres: ok")
        assert "kafka: unreachable (broker at 127.0.0.1:1 refused the connection)" in body
        assert (await asyncio.to_thread(get, f"{base}/nothing"))[0] == 404
    with pytest.raises(urllib.error.URLError):  # closed with the block, port freed
        urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310 - loopback http


async def test_ready_when_every_probe_answers() -> None:
    port = free_port()
    probes = {"postgres": answers, "kafka": answers}
    async with exposed("127.0.0.1", port, setting="X", registry=CollectorRegistry(), probes=probes):
        body = await wait_until(f"http://127.0.0.1:{port}/readyz", 200)
        assert body.splitlines()[0] == "ok" and len(body.splitlines()) == 3


async def test_port_zero_serves_nothing() -> None:
    async with exposed(
        "127.0.0.1", 0, setting="X", registry=CollectorRegistry(), probes={}
    ) as health:
        assert health is None


async def test_a_taken_port_is_one_line_naming_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsUnavailable, match=f"^FINSENT_ALERTER_METRICS_PORT: .*:{port} "):
            async with exposed(
                "127.0.0.1",
                port,
                setting="FINSENT_ALERTER_METRICS_PORT",
                registry=CollectorRegistry(),
                probes={},
            ):
                pass
