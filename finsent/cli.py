"""The `finsent` console script: builds settings, wires the packages together, reports errors."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from finsent.commands import alerts, broker, dashboard, db, demo, model, stream
from finsent.errors import format_settings_error, user_facing_errors
from finsent.logs import LogFormat, configure_logging

app = typer.Typer(
    name="finsent",
    help="Streaming financial-news sentiment monitoring.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING or ERROR."),
    log_format: LogFormat = typer.Option(LogFormat.plain, "--log-format", help="plain or json."),
) -> None:
    configure_logging(level=log_level, fmt=log_format)


for _module in (db, broker, stream, dashboard, alerts, demo, model):
    _module.register(app)


def main() -> None:
    """Entry point: run the CLI, turning known failures into one line and exit status 2."""
    try:
        app()
    except ValidationError as e:
        print(f"error: {format_settings_error(e)}", file=sys.stderr)
        sys.exit(2)
    except user_facing_errors() as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
