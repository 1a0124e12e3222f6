"""The `finsent` console script as a user runs it: a real process, real services."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from finsent.postgres import server_answers
from migrations import alembic_config
from monitor.storage.settings import MonitorSettings
from stream.broker import free_port

FINSENT = [sys.executable, "-m", "finsent"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*FINSENT, *args], capture_output=True, text=True, env=full_env, timeout=120, check=False
    )


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    listed = set(re.findall(r"^│ (\w+)\s{2,}", result.stdout, re.MULTILINE))
    assert listed == {
        *("db", "broker", "worker", "produce", "score", "train", "evaluate", "export"),
        *("alerter", "alerts", "dashboard", "demo", "dlq"),
    }


@pytest.mark.integration
def test_unreachable_database_is_one_line_naming_the_setting() -> None:
    result = run("db", "upgrade", env={"FINSENT_DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/x"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: FINSENT_DATABASE_URL: cannot connect")
    assert "pw" not in lines[0]


def test_malformed_setting_is_one_line() -> None:
    result = run("db", "upgrade", env={"FINSENT_DATABASE_URL": "not a url"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: FINSENT_DATABASE_URL: Input should be a valid URL, "
        "relative URL without a base (got 'not a url')"
    ]


@pytest.mark.integration
def test_db_upgrade_creates_database_then_downgrades_and_upgrades(postgres_server: str) -> None:
    name = f"finsent_cli_{uuid.uuid4().hex[:10]}"
    env = {
        "FINSENT_DATABASE_URL": make_url(postgres_server)
        .set(database=name)
        .render_as_string(hide_password=False)
    }
    try:
        up = run("db", "upgrade", env=env)
        assert up.returncode == 0, up.stderr
        assert "created the database" in up.stderr
        head = ScriptDirectory.from_config(alembic_config(MonitorSettings())).get_current_head()
        assert f"{head} (head)" in run("db", "current", env=env).stdout
        down = run("db", "downgrade", "base", env=env)
        assert down.returncode == 0, down.stderr
        again = run("db", "upgrade", env=env)
        assert again.returncode == 0, again.stderr
    finally:
        admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.mark.integration
def test_broker_serves_until_interrupted() -> None:
    port = free_port()
    process = subprocess.Popen(
        [*FINSENT, "broker", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.strip() == f"broker ready: FINSENT_KAFKA_BOOTSTRAP=127.0.0.1:{port}"
        assert server_answers("127.0.0.1", port)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
    assert not server_answers("127.0.0.1", port)
