"""`finsent dashboard`: the Streamlit app, headless, on loopback unless told otherwise."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

import dashboard
from dashboard.settings import DashboardSettings
from monitor.exceptions import DatabaseUnavailable
from monitor.storage.db import check_connection, describe
from monitor.storage.reading import read_engine

APP = Path(dashboard.__file__).resolve().parent / "app.py"


def register(app: typer.Typer) -> None:
    app.command(name="dashboard")(run_dashboard)


def streamlit_argv(address: str, port: int) -> list[str]:
    """The command line that serves the app: headless, no file watcher, no usage statistics."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        f"--server.address={address}",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--global.developmentMode=false",
        "--client.toolbarMode=viewer",
    ]


def _check_database(settings: DashboardSettings) -> None:
    """Fail in one line, naming the setting the dashboard actually reads, when it won't answer."""
    engine = read_engine(settings.read_url)
    try:
        check_connection(engine)
    except DatabaseUnavailable as e:
        if settings.dashboard_database_url is None:
            raise
        message = str(e).replace("FINSENT_DATABASE_URL", "FINSENT_DASHBOARD_DATABASE_URL", 1)
        raise DatabaseUnavailable(message) from e
    finally:
        engine.dispose()
    typer.echo(f"dashboard reads {describe(engine)}", err=True)


def run_dashboard(
    address: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every one)."),
    port: int = typer.Option(8501, help="Port to listen on."),
    check: bool = typer.Option(True, help="Check the database answers before starting."),
) -> None:
    """Serve the live dashboard (reads FINSENT_DASHBOARD_DATABASE_URL or FINSENT_DATABASE_URL)."""
    settings = DashboardSettings()
    if check:
        _check_database(settings)
    typer.echo(f"dashboard: http://{address}:{port}", err=True)
    argv = streamlit_argv(address, port)
    os.execv(argv[0], argv)  # noqa: S606 - replaces this process; fixed argv, no shell
