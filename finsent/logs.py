"""Logging for every finsent process: plain or JSON lines, credentials masked on the way out."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum

from monitor.storage.records import redact_secrets


class LogFormat(StrEnum):
    plain = "plain"
    json = "json"


def redact(text: str) -> str:
    """Mask endpoints, passwords in URLs and webhook secrets (the one rule: `redact_secrets`)."""
    return redact_secrets(text)


class _RedactingPlain(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _RedactingJson(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(*, level: str = "INFO", fmt: LogFormat = LogFormat.plain) -> None:
    """Send every logger to stderr in the chosen format; call once, from the CLI."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt is LogFormat.json:
        handler.setFormatter(_RedactingJson())
    else:
        handler.setFormatter(_RedactingPlain("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
