"""No credential in any output: secrets planted in a webhook URL (user info, path, query), the
signing secret and the database password never appear in what `finsent` commands print or log, or
in the dashboard's deliveries table, while their masked forms do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from dashboard.transforms import deliveries_frame
from monitor.storage import alert_queries
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.models import AlertDelivery
from monitor.storage.settings import MonitorSettings
from stream.broker import free_port
from tests.monitor.alerting.test_evaluator import BURST, RULES, Receiver, query, seed

pytestmark = pytest.mark.integration

MARK = "PLANTED"  # in every planted value, so one search finds any of them
SECRET = "whsec_PLANTEDsecretKEY0123456789abcdefghij"
DB_PASSWORD = "PLANTEDDBPW"
TOKENS = "user:PLANTEDPW@127.0.0.1:{port}/hooks/PLANTEDPATHTOKEN?token=PLANTEDQUERY"


@dataclass(frozen=True)
class Ran:
    """What one command printed, as a user sees it."""

    name: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Command:
    """One `python -m finsent …` run, its output in files (no pipe fills up while it runs)."""

    def __init__(self, name: str, args: tuple[str, ...], env: dict[str, str]) -> None:
        self.name, self.args, self.env = name, args, env
        self.process: subprocess.Popen[str] | None = None

    def start(self, folder: Path) -> Command:
        self.out, self.err = folder / f"{self.name}.out", folder / f"{self.name}.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                [sys.executable, "-m", "finsent", *self.args],
                stdout=out,
                stderr=err,
                text=True,
                cwd=folder,
                env={**os.environ, **self.env},
            )
        return self

    def finish(self, timeout_s: float = 60) -> Ran:
        assert self.process is not None
        code = self.process.wait(timeout=timeout_s)
        return Ran(self.name, code, self.out.read_text(), self.err.read_text())


def _planted_database_url(database: MonitorSettings) -> str:
    url = make_url(database.sqlalchemy_url)
    if url.password:
        pytest.skip("the test server needs a real password; the planted one would not connect")
    return url.set(password=DB_PASSWORD).render_as_string(hide_password=False)


def _assert_clean(ran: Ran, *shown: str) -> None:
    leaks = [line for line in ran.output.splitlines() if MARK in line]
    assert not leaks, f"{ran.name} printed a credential: {leaks}"
    for text in shown:
        assert text in ran.output, f"{ran.name}: {text!r} missing from {ran.output!r}"


def _wait_for(condition: Callable[[], bool], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_no_command_prints_a_planted_credential(database: MonitorSettings, tmp_path: Path) -> None:
    failing = Receiver(free_port(), statuses=[500] * 10_000).start()  # every attempt fails
    refused = free_port()  # nothing listens here
    hook, dead = (f"http://{TOKENS.format(port=p)}" for p in (failing.port, refused))
    masked_hook, masked_dead = (f"http://127.0.0.1:{p}/…" for p in (failing.port, refused))
    db_url = _planted_database_url(database)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    seed(database, range(BURST[1]))  # a burst that fires at once
    env = {
        "FINSENT_DATABASE_URL": db_url,
        "FINSENT_RULES": str(rules),
        "FINSENT_WEBHOOK_URLS": f"{hook},{dead}",
        "FINSENT_WEBHOOK_SECRET": SECRET,
        "FINSENT_ALERT_INTERVAL_S": "0.2",
        "FINSENT_ALERT_MAX_EVENT_AGE_S": str(3650 * 86400),  # the seeded history is weeks old
        "FINSENT_WEBHOOK_TIMEOUT_S": "2",
        "FINSENT_WEBHOOK_BACKOFF_S": "0.05",
        "FINSENT_WEBHOOK_BACKOFF_MAX_S": "0.2",
        "FINSENT_METRICS_PORT": "0",  # no metrics endpoints: they would need fixed ports
        "FINSENT_ALERTER_METRICS_PORT": "0",
    }
    dead_db = f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:{refused}/x"
    bad_port = f"http://user:{MARK}PW@127.0.0.1:99999/hooks/{MARK}PATHTOKEN?token={MARK}QUERY"
    commands = [
        Command(
            "alerter",
            ("--log-level", "DEBUG", "--log-format", "json", "alerter", "--no-kafka"),
            env,
        ),
        Command("test-500", ("--log-level", "DEBUG", "alerts", "test", hook), env),
        Command("test-refused", ("alerts", "test", dead), env),
        Command("test-bad-port", ("alerts", "test", bad_port), env),
        Command("db-current", ("db", "current"), env),
        Command(
            "dashboard-unreachable",
            ("dashboard",),
            {**env, "FINSENT_DASHBOARD_DATABASE_URL": dead_db},
        ),
        Command(
            "urls-no-scheme",
            ("alerts", "test", hook),
            {**env, "FINSENT_WEBHOOK_URLS": f"{hook},hooks.example.com/services/{MARK}PATHTOKEN"},
        ),
        Command(
            "urls-not-http",
            ("alerts", "test", hook),
            {**env, "FINSENT_WEBHOOK_URLS": f"ftp://{TOKENS.format(port=21)}"},
        ),
        Command(
            "bad-second-secret",
            ("alerts", "test", hook),
            {**env, "FINSENT_WEBHOOK_SECRET": f"{SECRET},{MARK}notasecret"},
        ),
        Command(
            "database-url-no-scheme",
            ("db", "current"),
            {**env, "FINSENT_DATABASE_URL": f"postgres:{DB_PASSWORD}@127.0.0.1:5432/finsent"},
        ),
    ]
    started = {c.name: c.start(tmp_path) for c in commands}
    try:
        # The alerter runs until both endpoints have failed twice, then is stopped as by Ctrl-C.
        fewest = select(func.min(AlertDelivery.attempts))
        _wait_for(lambda: (query(database, fewest)[0] or 0) >= 2)
        process = started["alerter"].process
        assert process is not None
        process.send_signal(signal.SIGINT)
        ran = {name: command.finish() for name, command in started.items()}
        for name, args in (("list", ("alerts", "list")), ("show", ("alerts", "show", "1"))):
            ran[name] = Command(name, args, env).start(tmp_path).finish()
    finally:
        for command in started.values():
            if command.process is not None and command.process.poll() is None:
                command.process.kill()
        failing.stop()

    assert ran["alerter"].returncode == 0, ran["alerter"].stderr
    _assert_clean(ran["alerter"], f"to {masked_hook} failed (HTTP 500)", f"to {masked_dead} failed")
    _assert_clean(ran["test-500"], f"{masked_hook}: HTTP 500 (retry)", f"POST {masked_hook}")
    _assert_clean(ran["test-refused"], f"{masked_dead}: ConnectError")
    _assert_clean(ran["test-bad-port"], "ENDPOINT: the host or port is malformed")
    _assert_clean(ran["db-current"], "database: postgresql+psycopg://postgres:***@127.0.0.1")
    _assert_clean(
        ran["dashboard-unreachable"],
        "error: FINSENT_DASHBOARD_DATABASE_URL: cannot connect to "
        f"postgresql+psycopg://postgres:***@127.0.0.1:{refused}/x",
    )
    _assert_clean(
        ran["urls-no-scheme"], "error: FINSENT_WEBHOOK_URLS: Value error, endpoint 2 of 2:"
    )
    _assert_clean(ran["urls-not-http"], "endpoint 1 of 1 (ftp://127.0.0.1:21/…)")
    _assert_clean(
        ran["bad-second-secret"], "error: FINSENT_WEBHOOK_SECRET: Value error, secret 2 of 2:"
    )
    _assert_clean(ran["database-url-no-scheme"], "(got 'postgres:***@127.0.0.1:5432/finsent')")
    _assert_clean(ran["list"], "#1 firing")
    _assert_clean(ran["show"], f"{masked_hook} ", f"{masked_dead} ", "last: HTTP 500")
    expected_codes = {"alerter": 0, "test-500": 1, "test-refused": 1}
    expected_codes |= {"db-current": 0, "list": 0, "show": 0}
    assert {n: r.returncode for n, r in ran.items()} == {
        name: expected_codes.get(name, 2) for name in ran
    }

    engine = make_engine(database)
    with make_sessionmaker(engine)() as session:
        table = deliveries_frame(alert_queries.deliveries(session=session, alert_id=1))
    engine.dispose()
    shown = table.to_string()
    assert MARK not in shown and masked_hook in shown and masked_dead in shown
