"""The demo's parts: the verifying webhook receiver, process groups, its rules, its options."""

from __future__ import annotations

import base64
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from finsent.demo import DemoOptions, burst_offset
from finsent.demo_setup import child_env, new_webhook_secret, write_rules
from finsent.processes import Child
from finsent.receiver import ReceivedAlert, WebhookReceiver, parse_alert
from monitor.alerting.rules import load_rules

BODY = {
    "version": "4",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "topic-negative-share", "key": "Earnings"},
            "annotations": {"summary": "Negative news spike on topic Earnings: 0.9 vs 0.3"},
        }
    ],
}


def _post(url: str, secret: str, webhook_id: str, body: str) -> int:
    signature = Webhook(secret).sign(webhook_id, datetime.now(UTC), body)
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
        "webhook-signature": signature,
    }
    return httpx.post(url, content=body.encode(), headers=headers, timeout=5).status_code


def test_receiver_accepts_signed_alerts_once_and_rejects_forgeries() -> None:
    secret = new_webhook_secret()
    seen: list[ReceivedAlert] = []
    receiver = WebhookReceiver(secret, seen.append).start()
    try:
        body = json.dumps(BODY)
        assert _post(receiver.url, secret, "msg_1", body) == 204
        assert _post(receiver.url, secret, "msg_1", body) == 204  # a retry, shown once
        assert _post(receiver.url, new_webhook_secret(), "msg_2", body) == 401
    finally:
        receiver.stop()
    assert seen == [
        ReceivedAlert("msg_1", "firing", "Negative news spike on topic Earnings: 0.9 vs 0.3")
    ]
    assert receiver.rejected == 1


def test_parse_alert_tolerates_a_minimal_body() -> None:
    assert parse_alert("m", {}).status == "?"


def test_secret_is_a_standard_webhooks_secret() -> None:
    secret = new_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_demo_rules_load(tmp_path: Path) -> None:
    rules = load_rules(write_rules(tmp_path / "new", rate=3.0))  # creates the folder
    assert {r.scope for r in rules} == {"topic", "ticker"}
    assert all(r.window_minutes == 1 and r.min_volume == 30 for r in rules)
    assert {r.min_volume for r in load_rules(write_rules(tmp_path, rate=0.5))} == {10}


def test_child_env_points_every_process_at_the_demo_services(tmp_path: Path) -> None:
    env = child_env(
        bootstrap="127.0.0.1:1",
        database_url="postgresql+psycopg://postgres@127.0.0.1:2/finsent",
        webhook_url="http://127.0.0.1:3/webhook",
        secret="whsec_x",
        rules=tmp_path / "r.toml",
    )
    assert env["FINSENT_KAFKA_BOOTSTRAP"] == "127.0.0.1:1"
    assert env["FINSENT_METRICS_PORT"] == env["FINSENT_ALERTER_METRICS_PORT"] == "0"
    assert "FINSENT_DASHBOARD_DATABASE_URL" not in env


def test_stopping_a_child_stops_its_whole_process_group(tmp_path: Path) -> None:
    script = "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)"
    child = Child("sleeper", (sys.executable, "-c", script), dict(os.environ), tmp_path / "s.log")
    child.start()
    pgid = child.pid
    assert pgid is not None
    child.stop(timeout_s=5)
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)
    child.stop()  # twice is fine


@pytest.mark.parametrize("values", [{"rate": 0.0}, {"rate": 10_000.0}, {"duration_s": -1.0}])
def test_demo_options_fail_fast(values: dict[str, float], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be"):
        DemoOptions(data_dir=tmp_path, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "offset"),
    [("12:00:00", 60.0), ("12:00:29.5", 30.5), ("12:00:30", 30.0), ("12:00:31", 89.0)],
)
def test_burst_starts_on_a_minute_boundary_at_least_30s_ahead(start: str, offset: float) -> None:
    moment = datetime.fromisoformat(f"2026-03-02T{start}+00:00")
    assert burst_offset(moment, 30) == offset
