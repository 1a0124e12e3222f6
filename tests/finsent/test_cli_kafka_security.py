"""The Kafka SASL password as a user runs `finsent`: bad settings and an unreachable broker are
one line naming the setting, and the password is in no line the process writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from finsent.demo_setup import child_env
from stream.broker import free_port
from stream.kafka import client_options
from stream.settings import KAFKA_SECURITY_ENV, StreamSettings

FINSENT = [sys.executable, "-m", "finsent"]
PASSWORD = "planted-Pa55word-7f3c"  # noqa: S105 - a test value that must never be shown


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    ours = (*KAFKA_SECURITY_ENV, "FINSENT_KAFKA_SECURITY_PROTOCOL")
    inherited = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [*FINSENT, *args],
        capture_output=True,
        text=True,
        env={**inherited, "FINSENT_KAFKA_SASL_PASSWORD": PASSWORD, **env},
        timeout=120,
        check=False,
    )


def test_password_without_sasl_and_a_bad_bootstrap_name_both_settings_not_the_password() -> None:
    result = run("worker", FINSENT_KAFKA_BOOTSTRAP="no-port-here", FINSENT_KAFKA_SASL_USERNAME="a")
    assert result.returncode == 2
    assert PASSWORD not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: FINSENT_KAFKA_BOOTSTRAP: ")
    assert "; FINSENT_KAFKA_SASL_PASSWORD: Value error, only used with" in line


def test_incomplete_sasl_settings_name_each_missing_setting_not_the_password() -> None:
    result = run(
        "produce",
        "--synthetic",
        "--rate",
        "10",
        FINSENT_KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        FINSENT_KAFKA_SASL_MECHANISM="SCRAM-SHA-1",
    )
    assert result.returncode == 2
    assert PASSWORD not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "FINSENT_KAFKA_SASL_MECHANISM: Input should be 'PLAIN', 'SCRAM-SHA-256'" in line
    assert "FINSENT_KAFKA_SASL_USERNAME: Value error, required when" in line


def test_worker_help_does_not_show_the_password() -> None:
    result = run("worker", "--help", FINSENT_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT")
    assert result.returncode == 0
    assert "Consume news.raw" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_unreachable_sasl_broker_is_one_line_and_no_log_has_the_password() -> None:
    result = run(
        "--log-level",
        "DEBUG",
        "produce",
        "--synthetic",
        "--rate",
        "100",
        "--count",
        "1",
        FINSENT_KAFKA_BOOTSTRAP=f"127.0.0.1:{free_port()}",
        FINSENT_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        FINSENT_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        FINSENT_KAFKA_SASL_USERNAME="alice",
    )
    assert result.returncode == 2
    assert PASSWORD not in result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: FINSENT_KAFKA_BOOTSTRAP: cannot reach a Kafka broker at ")
    assert "over SASL_PLAINTEXT SCRAM-SHA-512" in last


def test_demo_processes_speak_plain_text_to_the_embedded_broker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A managed cluster's TLS and SASL settings in the environment do not follow the demo."""
    managed = {
        "FINSENT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "FINSENT_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "FINSENT_KAFKA_SASL_USERNAME": "alice",
        "FINSENT_KAFKA_SASL_PASSWORD": PASSWORD,
        "FINSENT_KAFKA_SSL_CA_FILE": "/nonexistent/ca.pem",
    }
    for name, value in managed.items():
        monkeypatch.setenv(name, value)
    env = child_env(
        bootstrap="127.0.0.1:1",
        database_url="postgresql+psycopg://u@127.0.0.1:1/x",
        webhook_url="http://127.0.0.1:1/hook",
        secret="whsec_x",
        rules=tmp_path / "rules.toml",
    )
    for name in (*KAFKA_SECURITY_ENV, "FINSENT_KAFKA_SECURITY_PROTOCOL"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.chdir(tmp_path)  # no .env
    settings = StreamSettings()
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert settings.kafka_sasl_password is None
    assert settings.kafka_ssl_ca_file is None
    assert client_options(settings)["security_protocol"] == "PLAINTEXT"
