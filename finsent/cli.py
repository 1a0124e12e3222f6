"""The `finsent` console script: builds settings, wires the packages together, reports errors."""

from __future__ import annotations

import sys
import traceback

import typer
from pydantic import ValidationError

from finsent.commands import alerts, broker, dashboard, db, demo, dlq, model, stream
from finsent.errors import format_settings_error, user_facing_errors
from finsent.logs import LogFormat, configure_logging, redact

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


for _module in (db, broker, stream, dlq, dashboard, alerts, demo, model):
    _module.register(app)


def main() -> None:
    """Entry point: run the CLI, turning known failures into one line and exit status 2."""
    try:
        app()
    except ValidationError as e:
        print(f"error: {format_settings_error(e)}", file=sys.stderr)
        sys.exit(2)
    except user_facing_errors() as e:
        print(f"error: {redact(str(e))}", file=sys.stderr)
        sys.exit(2)
    except Exception:
        # A bug keeps its traceback, but a URL or secret in it is masked like a log line's.
        print(redact(traceback.format_exc()), file=sys.stderr, end="")
        sys.exit(1)
