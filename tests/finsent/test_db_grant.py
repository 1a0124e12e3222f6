"""`finsent db grant-reader` as a user runs it: one line naming the role, never the password."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url

from monitor.storage.settings import MonitorSettings
from tests.finsent.test_cli import run
from tests.monitor.storage.reader_roles import drop_roles, new_role_name, role_exists


@pytest.fixture
def roles(database: MonitorSettings) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    drop_roles(database, made)


@pytest.mark.integration
def test_grant_reader_prints_one_line_naming_the_role_and_never_the_password(
    database: MonitorSettings, roles: list[str]
) -> None:
    role = new_role_name()
    roles.append(role)
    password = f"pw-{uuid.uuid4().hex}"
    env = {"FINSENT_DATABASE_URL": database.sqlalchemy_url, "READER_PW": password}
    first = run("db", "grant-reader", role, "--password-env", "READER_PW", env=env)
    again = run("db", "grant-reader", role, env=env)
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert first.stdout.splitlines() == [
        f"role {role!r} created (password from $READER_PW): SELECT on documents, "
        "sentiment_minute, alerts, alert_deliveries, rejected_records, sentiment_hour, "
        "sentiment_day, sentiment_week, ingest_minute, ingest_hour, ingest_day, rollup_state in "
        "database "
        f"{make_url(database.sqlalchemy_url).database}, "
        "schema public; nothing else"
    ]
    assert again.stdout.startswith(f"role {role!r} updated (password unchanged): SELECT on")
    for result in (first, again):
        assert password not in result.stdout + result.stderr
    assert role_exists(database, role)


@pytest.mark.integration
def test_a_missing_password_variable_is_one_line_and_changes_nothing(
    database: MonitorSettings, roles: list[str]
) -> None:
    role = new_role_name()
    roles.append(role)
    env = {"FINSENT_DATABASE_URL": database.sqlalchemy_url}
    variable = f"UNSET_{uuid.uuid4().hex}"
    result = run("db", "grant-reader", role, "--password-env", variable, env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: --password-env: the environment variable {variable!r} is not set or is empty"
    ]
    assert result.stdout == ""
    assert not role_exists(database, role)


def test_a_bad_name_is_one_line_before_connecting() -> None:
    env = {"FINSENT_DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/x"}  # nothing listens there
    result = run("db", "grant-reader", "x" * 64, env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: ROLE: {'x' * 64!r} is 64 bytes; PostgreSQL role names have at most 63"
    ]
