"""Turn the failures a user can fix into one line: which setting, what is wrong with it."""

from __future__ import annotations

from pydantic import ValidationError

from finsent.exceptions import FinsentError
from finsent.logs import redact
from model.exceptions import ModelError
from monitor.exceptions import MonitorError
from stream.exceptions import StreamError

ENV_PREFIX = "FINSENT_"
# Values never echoed, even masked: a webhook URL without its scheme is all path and token.
HIDDEN_FIELDS = ("secret", "password", "token", "webhook_url")


def user_facing_errors() -> tuple[type[Exception], ...]:
    """The root exceptions whose message is written for the user (no traceback needed)."""
    return (ModelError, MonitorError, StreamError, FinsentError)


def format_settings_error(error: ValidationError) -> str:
    """`FINSENT_DATABASE_URL: Input should be a valid URL (got 'x')`: one line per problem."""
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "settings"
        value = problem.get("input")
        hidden = any(part in field for part in HIDDEN_FIELDS)
        shown = "" if hidden or not isinstance(value, str) else f" (got {redact(value)!r})"
        lines.append(f"{ENV_PREFIX}{field.upper()}: {redact(problem['msg'])}{shown}")
    return "; ".join(lines)
