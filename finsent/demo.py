"""`finsent demo`: the whole system on one machine, started in order and stopped cleanly.

Broker, database (yours, or an embedded one), migrations, webhook receiver, worker, alerter,
dashboard, then a synthetic feed: some minutes of history, then live items with a scripted
negative burst. Every process runs in its own process group and is stopped on the way out.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from finsent import demo_setup
from finsent.postgres import server_answers
from finsent.processes import Child
from finsent.receiver import ReceivedAlert, WebhookReceiver
from monitor.storage.db import describe, make_engine
from stream.broker import EmbeddedBroker, free_port

log = logging.getLogger(__name__)

Say = Callable[[str], None]
HISTORY_RATE = 200.0  # items per wall second while the history is sent
HISTORY_SEED, LIVE_SEED = 7, 8


class DemoFailed(Exception):
    """A part of the demo did not start or stopped by itself; the message says which and why."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    data_dir: Path
    rate: float = 3.0
    duration_s: float = 0.0  # 0: until stopped
    browser: bool = True
    dashboard_port: int = 8501
    history_minutes: int = 10
    burst_topic: str = "Earnings"
    burst_ticker: str = "NWF"
    # The burst starts on the first minute boundary at least this long after the live feed does:
    # its alert then comes about 70-135 s into the live feed, well inside `--duration 180`.
    burst_after_s: float = 5.0
    burst_length_s: float = 90.0

    def __post_init__(self) -> None:
        if not 0.2 <= self.rate <= 500:
            raise ValueError(f"rate must be between 0.2 and 500 items/s, got {self.rate}")
        if self.duration_s < 0:
            raise ValueError(f"duration must be >= 0 seconds, got {self.duration_s}")


def burst_offset(start: datetime, at_least_s: float) -> float:
    """Seconds from `start` to the first whole minute at least `at_least_s` later.

    The rules use one-minute windows aligned to the clock: a burst that starts on a boundary
    fills its first window, so the alert fires as soon as that window closes.
    """
    earliest = start + timedelta(seconds=at_least_s)
    boundary = earliest.replace(second=0, microsecond=0)
    if boundary < earliest:
        boundary += timedelta(minutes=1)
    return (boundary - start).total_seconds()


@dataclass(frozen=True, slots=True)
class DemoReport:
    alerts: tuple[ReceivedAlert, ...]
    dashboard_url: str
    dashboard_ready_s: float


@dataclass
class Demo:
    """Run with `run()`; `stop` (set from a signal handler) ends it early."""

    options: DemoOptions
    say: Say
    stop: threading.Event
    _children: list[Child] = field(default_factory=list, init=False)
    _cleanups: list[Callable[[], None]] = field(default_factory=list, init=False)
    _started: float = field(default_factory=time.monotonic, init=False)
    _run_id: str = field(default_factory=lambda: f"{time.time_ns() // 1000:x}", init=False)

    def run(self) -> DemoReport:
        try:
            return self._run()
        finally:
            self._shutdown()

    def _run(self) -> DemoReport:
        logs = self.options.data_dir / "logs"
        bootstrap = self._broker()
        database_url = self._database()
        secret = demo_setup.new_webhook_secret()
        receiver = WebhookReceiver(secret, self._print_alert).start()
        self._cleanups.append(receiver.stop)
        self.say(f"receiver   {receiver.url} (verifies every signature)")
        port = self._dashboard_port()
        url = f"http://127.0.0.1:{port}"
        env = demo_setup.child_env(
            bootstrap=bootstrap,
            database_url=database_url,
            webhook_url=receiver.url,
            secret=secret,
            rules=demo_setup.write_rules(self.options.data_dir, self.options.rate),
        )
        env["FINSENT_ALERTS_EXTERNAL_URL"] = url  # the links in webhook bodies
        self._spawn("worker", ("worker",), env, logs)
        self._spawn("alerter", ("alerter",), env, logs)
        self._spawn("dashboard", ("dashboard", "--port", str(port), "--no-check"), env, logs)
        backfill = self._spawn("history", self._history_args(), env, logs)
        ready_s = self._wait_dashboard(url)
        self.say(f"dashboard  {url}  (ready {ready_s:.0f}s after start)")
        self._open_browser(url)
        self._watch(backfill, env, logs)
        return DemoReport(tuple(receiver.received), url, ready_s)

    def _broker(self) -> str:
        broker = EmbeddedBroker().start()
        self._cleanups.append(broker.stop)
        self.say(f"broker     {broker.bootstrap} (embedded Tansu, memory only)")
        return broker.bootstrap

    def _database(self) -> str:
        configured = demo_setup.configured_database()
        if configured is not None:
            database = demo_setup.Database(configured, None)
            where = "FINSENT_DATABASE_URL"
        else:
            database = demo_setup.start_embedded_database(self.options.data_dir)
            cluster = database.cluster
            if cluster is not None:
                self._cleanups.append(cluster.stop)
            where = f"embedded, data in {self.options.data_dir / 'pg'}"
        demo_setup.migrate(database.settings)
        engine = make_engine(database.settings)
        self.say(f"database   {describe(engine)} ({where}), schema at head")
        engine.dispose()
        return database.settings.sqlalchemy_url

    def _spawn(self, name: str, args: tuple[str, ...], env: dict[str, str], logs: Path) -> Child:
        child = Child.finsent(name, args, env, logs).start()
        self._children.append(child)
        if name != "history":
            self.say(f"{name:<10} started (pid {child.pid}, log {child.log_path})")
        return child

    def _dashboard_port(self) -> int:
        wanted = self.options.dashboard_port
        if wanted and not server_answers("127.0.0.1", wanted):
            return wanted
        return free_port()

    def _feed_args(
        self, start: datetime, count: int, *, speed: float, seed: int
    ) -> tuple[str, ...]:
        """`--speed` event seconds per wall second; items stay 1/rate event seconds apart.

        The content is seeded, so every run tells the same story; each run gets its own run id
        in the item ids, since the sink ignores ids it already has and a second demo on the same
        data folder must not repeat them.
        """
        return (
            *("produce", "--synthetic", "--rate", f"{self.options.rate * speed:g}"),
            *("--speed", f"{speed:g}", "--count", str(count), "--start", start.isoformat()),
            *("--seed", str(seed), "--run-id", self._run_id),
        )

    def _history_args(self) -> tuple[str, ...]:
        """The last minutes of news, sent fast, so the alert rules have a baseline at once."""
        minutes = self.options.history_minutes
        start = datetime.now(UTC) - timedelta(minutes=minutes)
        count = int(minutes * 60 * self.options.rate)
        speed = max(1.0, HISTORY_RATE / self.options.rate)
        return self._feed_args(start, count, speed=speed, seed=HISTORY_SEED)

    def _live_args(self, start: datetime, burst_at_s: float) -> tuple[str, ...]:
        o = self.options
        args = self._feed_args(start, 0, speed=1.0, seed=LIVE_SEED)
        burst = ("--burst-topic", o.burst_topic, "--burst-ticker", o.burst_ticker)
        timing = ("--burst-at", f"{burst_at_s:g}", "--burst-length", f"{o.burst_length_s:g}")
        return (*args, *burst, *timing)

    def _wait_dashboard(self, url: str, timeout_s: float = 120.0) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.stop.is_set():
            self._check_alive()
            try:
                health = f"{url}/_stcore/health"
                with urllib.request.urlopen(health, timeout=1) as answer:  # noqa: S310 - loopback
                    if answer.status == 200:
                        return time.monotonic() - self._started
            except OSError:
                self.stop.wait(0.25)
        if self.stop.is_set():
            return time.monotonic() - self._started
        raise DemoFailed(f"the dashboard did not answer on {url} within {timeout_s:.0f}s")

    def _watch(self, backfill: Child, env: dict[str, str], logs: Path) -> None:
        """Until stopped or out of time: start the live feed after the history, watch children."""
        o = self.options
        deadline = self._started + o.duration_s if o.duration_s else float("inf")
        live_started = False
        while not self.stop.is_set() and time.monotonic() < deadline:
            if not live_started and backfill.poll() is not None:
                if backfill.poll() != 0:
                    raise DemoFailed(f"the history feed failed: {backfill.tail()}")
                self.say(f"feed       {o.history_minutes} minutes of history sent")
                start = datetime.now(UTC)
                burst_at_s = burst_offset(start, o.burst_after_s)
                self._spawn("feed", self._live_args(start, burst_at_s), env, logs)
                self.say(
                    f"feed       live at {o.rate:g} items/s; negative burst on {o.burst_topic} "
                    f"and ${o.burst_ticker} in {burst_at_s:.0f}s"
                )
                live_started = True
            self._check_alive()
            self.stop.wait(0.5)

    def _check_alive(self) -> None:
        for child in self._children:
            code = child.poll()
            if code is not None and child.name != "history":
                raise DemoFailed(f"{child.name} exited with {code}: {child.tail()}")

    def _print_alert(self, alert: ReceivedAlert) -> None:
        self.say(f"ALERT      {alert.status}: {alert.summary} (signature verified)")

    def _open_browser(self, url: str) -> None:
        has_display = any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY"))
        if self.options.browser and (has_display or sys.platform == "darwin"):
            webbrowser.open(url)

    def _shutdown(self) -> None:
        """Children in reverse order (feed first, worker last), then the receiver and services."""
        for child in reversed(self._children):
            child.stop()
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                log.exception("while stopping the demo")
