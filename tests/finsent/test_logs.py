"""Logs never carry a password or a webhook secret, in either format."""

from __future__ import annotations

import json
import logging

import pytest

from finsent.logs import LogFormat, configure_logging, redact


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "postgresql+psycopg://app:s3cr%40t@db:5432/finsent",
            "postgresql+psycopg://app:***@db:5432/finsent",
        ),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw= in text", "secret whsec_*** in text"),
        ("postgresql://app@db/finsent", "postgresql://app@db/finsent"),
    ],
)
def test_redact(raw: str, shown: str) -> None:
    assert redact(raw) == shown


def test_json_lines_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", fmt=LogFormat.json)
    logging.getLogger("finsent.test").info("connecting to %s", "postgresql://u:hunter2@h/db")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["message"] == "connecting to postgresql://u:***@h/db"
    assert entry["level"] == "INFO"
    assert "hunter2" not in line
