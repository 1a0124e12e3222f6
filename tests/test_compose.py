"""compose.yaml is well formed and wired as documented (no Docker engine runs here to try it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from finsent.cli import app

COMPOSE = Path(__file__).resolve().parents[1] / "compose.yaml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    spec = yaml.safe_load(COMPOSE.read_text())
    assert set(spec) >= {"services", "volumes"}
    result: dict[str, Any] = spec["services"]
    return result


# The commands that run until stopped; each must be a service, or a deployment lacks it.
LONG_RUNNING = {"worker", "alerter", "dashboard"}


def test_expected_services(services: dict[str, Any]) -> None:
    assert set(services) == {"kafka", "postgres", "migrate", "worker", "alerter", "dashboard"}


def test_every_long_running_command_has_a_service(services: dict[str, Any]) -> None:
    assert LONG_RUNNING <= _registered_commands()
    commands = {word for service in services.values() for word in service.get("command", [])}
    assert LONG_RUNNING - commands == set()


def test_alerter_runs_replicated_with_the_shared_environment(services: dict[str, Any]) -> None:
    alerter = services["alerter"]
    assert alerter["deploy"]["replicas"] >= 2
    assert alerter["environment"]["FINSENT_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert alerter["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_dependencies_exist_and_wait_for_health(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            condition = rule["condition"]
            if "healthcheck" in services[dependency]:
                assert condition == "service_healthy", f"{name} -> {dependency}"
            else:
                assert condition == "service_completed_successfully", f"{name} -> {dependency}"


def test_long_running_services_have_health_checks(services: dict[str, Any]) -> None:
    for name in ("kafka", "postgres", "dashboard"):
        assert services[name]["healthcheck"]["test"], name


def test_finsent_services_share_the_environment(services: dict[str, Any]) -> None:
    for name in ("migrate", "worker", "alerter", "dashboard"):
        env = services[name]["environment"]
        assert env["FINSENT_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["FINSENT_DATABASE_URL"].startswith("postgresql+psycopg://finsent:${")


def _registered_commands() -> set[str]:
    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


@pytest.mark.parametrize("service", ["migrate", "worker", "alerter", "dashboard"])
def test_service_runs_a_real_command(services: dict[str, Any], service: str) -> None:
    assert _registered_commands() & set(services[service]["command"])


def test_only_loopback_ports_are_published(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
