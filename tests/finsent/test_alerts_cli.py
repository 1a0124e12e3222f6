"""`finsent alerts` and `finsent alerter` as a user runs them, against a seeded database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from typer.testing import CliRunner

from finsent.cli import app
from monitor.alerting.evaluator import Outbox, Timing, evaluate_rules
from monitor.alerting.rules import load_rules
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.settings import MonitorSettings
from tests.monitor.alerting.test_evaluator import RULES, SECRET, T0, seed

pytestmark = pytest.mark.integration


def env_for(database: MonitorSettings, rules: Path) -> dict[str, str]:
    return {
        "FINSENT_DATABASE_URL": database.sqlalchemy_url,
        "FINSENT_RULES": str(rules),
        "FINSENT_WEBHOOK_SECRET": SECRET,
    }


def test_backtest_list_and_show(database: MonitorSettings, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    seed(database, range(240))
    runner = CliRunner()
    env = env_for(database, rules)

    result = runner.invoke(
        app,
        ["alerts", "backtest", "--since", T0.isoformat(), "--until", "2026-11-02T12:00Z"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "topic-negative-share" in line]
    assert len(lines) == 1
    assert re.match(
        r"2026-11-02 10:5\d UTC  topic-negative-share  topic Earnings  \d+ of 40 items negative "
        r"in the last 5 min; \d+\.\d expected from the last 2 h \(rate 0\.\d\d\); z \d+\.\d  "
        r"until 2026-11-02 11:\d\d UTC$",
        lines[0],
    ), lines[0]

    as_json = runner.invoke(
        app,
        ["alerts", "backtest", "--since", T0.isoformat(), "--until", "2026-11-02T12:00Z"]
        + ["--format", "json"],
        env=env,
    )
    episodes = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(e["rule"], e["dimension"], e["key"]) for e in episodes] == [
        ("topic-negative-share", "topic", "Earnings")
    ]
    (episode,) = episodes
    assert episode["started_at"] == episode["window_start"] < episode["resolved_at"]
    assert episode["observed"] > 2 * episode["expected"] and episode["z"] > 4
    assert lines[0].split("  ")[3] == episode["evidence"]

    assert runner.invoke(app, ["alerts", "list"], env=env).stdout.strip() == "no alerts"
    missing = subprocess.run(
        [sys.executable, "-m", "finsent", "alerts", "show", "42"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: no alert 42; `finsent alerts list` shows the ids"

    engine = make_engine(database)
    evaluate_rules(
        make_sessionmaker(engine),
        load_rules(rules),
        timing=Timing(timedelta(seconds=60), 1000, max_event_age=timedelta(days=3650)),
        outbox=Outbox(("https://hooks.example.com/services/T0/B0/token",), "http://dash"),
    )
    engine.dispose()
    listed = runner.invoke(app, ["alerts", "list"], env=env).stdout.splitlines()
    assert len(listed) == 1 and listed[0].startswith("#1 resolved topic-negative-share")
    shown = runner.invoke(app, ["alerts", "show", "1"], env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.count("profit warning shock") == 3
    assert "https://hooks.example.com/…" in shown.stdout and "token" not in shown.stdout
    assert shown.stdout.count("pending") == 2  # firing and resolved, nobody sent them here


def test_test_command_sends_a_signed_event(tmp_path: Path) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(
                (dict(self.headers.items()), self.rfile.read(int(self.headers["content-length"])))
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        result = CliRunner().invoke(
            app, ["alerts", "test", url], env={"FINSENT_WEBHOOK_SECRET": SECRET}
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert "HTTP 204 (delivered)" in result.stdout
    ((headers, body),) = received
    payload = Webhook(SECRET).verify(body, headers)
    assert payload["alerts"][0]["labels"]["alertname"] == "finsent-test"
    assert json.loads(body)["version"] == "4"


def test_a_bad_rules_file_stops_the_alerter_with_its_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        RULES.replace("false_alarms_per_100_days = 1", 'false_alarms_per_100_days = "high"')
    )
    result = subprocess.run(
        [sys.executable, "-m", "finsent", "alerter", "--no-kafka"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "FINSENT_RULES": str(rules)},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {rules}:9: rule 'topic-negative-share': false_alarms_per_100_days: "
        "Input should be a valid number, unable to parse string as a number"
    ]
