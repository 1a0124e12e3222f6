"""`finsent demo`: the whole system in one command, on loopback, until Ctrl-C or --duration."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import typer

from finsent.demo import Demo, DemoFailed, DemoOptions


def register(app: typer.Typer) -> None:
    app.command()(demo)


def _say(line: str) -> None:
    typer.echo(f"{datetime.now(UTC):%H:%M:%S} {line}")


def demo(
    rate: float = typer.Option(3.0, help="Live news items per second."),
    duration: float = typer.Option(0, help="Stop after this many seconds (0: at Ctrl-C)."),
    browser: bool = typer.Option(True, help="Open the dashboard in a browser (with a display)."),
    port: int = typer.Option(8501, help="Dashboard port (a free one when this is taken)."),
    data_dir: Path = typer.Option(
        Path("var/demo"), help="Embedded database and logs; reused by the next run."
    ),
) -> None:
    """Broker, database, worker, alerter, webhook receiver, dashboard and a synthetic feed with
    a negative burst after about a minute; prints each alert the receiver gets."""
    try:
        options = DemoOptions(
            data_dir=data_dir, rate=rate, duration_s=duration, browser=browser, dashboard_port=port
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    root = logging.getLogger()
    if root.level == logging.INFO:  # the default: keep the status lines readable
        root.setLevel(logging.WARNING)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    _say("demo       starting; Ctrl-C stops everything")
    try:
        report = Demo(options, _say, stop).run()
    except DemoFailed as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    fired = sum(1 for a in report.alerts if a.status == "firing")
    _say(
        f"demo       stopped: {len(report.alerts)} alert events received ({fired} firing), "
        f"dashboard was ready after {report.dashboard_ready_s:.0f}s; logs in {data_dir / 'logs'}"
    )
