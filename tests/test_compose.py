"""compose.yaml, the Dockerfile and deploy/prometheus.yml are well formed and wired as documented
(no Docker engine runs here to try them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from finsent.cli import app
from finsent.observability import METRICS_PATH, READY_PATH, MetricsSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    spec = yaml.safe_load(COMPOSE.read_text())
    assert set(spec) >= {"services", "volumes"}
    result: dict[str, Any] = spec["services"]
    return result


# The commands that run until stopped; each must be a service, or a deployment lacks it.
LONG_RUNNING = {"worker", "alerter", "dashboard"}


def test_expected_services(services: dict[str, Any]) -> None:
    assert {name for name, s in services.items() if "profiles" not in s} == {
        *("kafka", "postgres", "migrate", "grant-reader", "worker", "alerter", "dashboard")
    }
    # Optional: Prometheus, and workers on the GPU image.
    assert {name: s["profiles"] for name, s in services.items() if "profiles" in s} == {
        "prometheus": ["monitoring"],
        "worker-gpu": ["gpu"],
    }


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
    for name in ("kafka", "postgres", "dashboard", "worker", "worker-gpu", "alerter", "prometheus"):
        assert services[name]["healthcheck"]["test"], name


@pytest.mark.parametrize(
    ("service", "port_setting"),
    [
        ("worker", "FINSENT_METRICS_PORT"),
        ("worker-gpu", "FINSENT_METRICS_PORT"),
        ("alerter", "FINSENT_ALERTER_METRICS_PORT"),
    ],
)
def test_worker_and_alerter_health_checks_ask_their_own_readiness_endpoint(
    services: dict[str, Any], service: str, port_setting: str
) -> None:
    env = services[service]["environment"]
    assert env["FINSENT_METRICS_ADDRESS"] == "0.0.0.0"  # noqa: S104 - reachable in the network
    check = services[service]["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"]
    assert f"urlopen('http://127.0.0.1:{env[port_setting]}{READY_PATH}'" in check[3]
    assert _duration_s(services[service]["healthcheck"]["start_period"]) >= 30


def test_worker_and_alerter_metrics_ports_differ_as_the_defaults_do(
    services: dict[str, Any],
) -> None:
    env = services["alerter"]["environment"]
    ports = int(env["FINSENT_METRICS_PORT"]), int(env["FINSENT_ALERTER_METRICS_PORT"])
    defaults = MetricsSettings.model_fields
    assert ports == (defaults["metrics_port"].default, defaults["alerter_metrics_port"].default)
    assert ports[0] != ports[1]


def test_monitoring_profile_scrapes_every_worker_and_alerter(services: dict[str, Any]) -> None:
    prometheus = services["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:v")
    source, target = prometheus["volumes"][0].split(":")[:2]
    assert target == "/etc/prometheus/prometheus.yml"
    config = yaml.safe_load((ROOT / source).read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"finsent-worker", "finsent-alerter"}
    env = services["alerter"]["environment"]
    for job, names, port_setting in (
        ("finsent-worker", {"worker", "worker-gpu"}, "FINSENT_METRICS_PORT"),
        ("finsent-alerter", {"alerter"}, "FINSENT_ALERTER_METRICS_PORT"),
    ):
        assert jobs[job].get("metrics_path", METRICS_PATH) == METRICS_PATH
        (discovery,) = jobs[job]["dns_sd_configs"]
        # DNS discovery, so every replica is a target, not one of them at random.
        assert discovery["type"] == "A" and set(discovery["names"]) == names <= set(services)
        assert discovery["port"] == int(env[port_setting])


def test_gpu_profile_builds_the_gpu_extra_and_reserves_a_gpu(services: dict[str, Any]) -> None:
    gpu, cpu = services["worker-gpu"], services["worker"]
    assert gpu["command"] == cpu["command"] and gpu["depends_on"] == cpu["depends_on"]
    assert gpu["build"]["args"]["FINSENT_EXTRAS"] == "gpu"
    assert gpu["build"]["args"]["BASE_IMAGE"].startswith("nvidia/cuda:")
    assert "cudnn-runtime" in gpu["build"]["args"]["BASE_IMAGE"]
    assert gpu["environment"]["FINSENT_DEVICE"] == "cuda"
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert "gpu" in device["capabilities"] and device["count"] >= 1
    assert "build" not in cpu or cpu["build"] == "."  # the CPU services build the default image


def _duration_s(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([smh])", text))


def test_finsent_services_share_the_environment(services: dict[str, Any]) -> None:
    for name in ("migrate", "worker", "worker-gpu", "alerter"):
        env = services[name]["environment"]
        assert env["FINSENT_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["FINSENT_DATABASE_URL"].startswith("postgresql+psycopg://finsent:${")


def test_the_dashboard_reads_as_the_read_only_role_and_sees_no_writer_secret(
    services: dict[str, Any],
) -> None:
    grant = services["grant-reader"]
    assert grant["command"][:3] == ["db", "grant-reader", "finsent_reader"]
    assert grant["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    dashboard = services["dashboard"]
    env = dashboard["environment"]
    reader = "postgresql+psycopg://finsent_reader:${FINSENT_READER_PASSWORD"
    assert env["FINSENT_DASHBOARD_DATABASE_URL"].startswith(reader)
    assert env["FINSENT_DATABASE_URL"] == env["FINSENT_DASHBOARD_DATABASE_URL"]
    assert not {"FINSENT_WEBHOOK_SECRET", "POSTGRES_PASSWORD"} & set(env)
    assert dashboard["depends_on"]["grant-reader"]["condition"] == "service_completed_successfully"


def _registered_commands() -> set[str]:
    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


@pytest.mark.parametrize("service", ["migrate", "worker", "worker-gpu", "alerter", "dashboard"])
def test_service_runs_a_real_command(services: dict[str, Any], service: str) -> None:
    assert _registered_commands() & set(services[service]["command"])


def test_only_loopback_ports_are_published(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


# --- the Dockerfile -------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def _args(instructions: list[tuple[str, str]]) -> dict[str, str]:
    return dict(rest.partition("=")[::2] for keyword, rest in instructions if keyword == "ARG")


def _expand(word: str, env: dict[str, str]) -> str:
    """POSIX `${NAME:+word}` and `${NAME}`, the two expansions the install line uses."""
    word = re.sub(
        r"\$\{(\w+):\+((?:[^{}]|\{[^{}]*\})*)\}",
        lambda m: _expand(m.group(2), env) if env.get(m.group(1)) else "",
        word,
    )
    return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word)


def test_the_default_image_is_the_cpu_one_and_the_base_is_a_build_argument() -> None:
    instructions = _instructions()
    first_from = next(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    assert instructions[first_from] == ("FROM", "${BASE_IMAGE}")
    before = _args(instructions[:first_from])
    assert before["BASE_IMAGE"].startswith("python:3.11")


def test_the_default_build_installs_no_extra_and_gpu_installs_the_gpu_one() -> None:
    instructions = _instructions()
    first_from = next(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    # Declared inside the stage, or RUN would not see it.
    assert _args(instructions[first_from:])["FINSENT_EXTRAS"] == ""
    (install,) = [rest for keyword, rest in instructions if 'pip install ".' in rest]
    (target,) = re.findall(r'pip install "(\.[^"]*)"', install)
    assert _expand(target, {"FINSENT_EXTRAS": ""}) == "."
    assert _expand(target, {"FINSENT_EXTRAS": "gpu"}) == ".[gpu]"
    assert "onnxruntime-gpu" in install and "*,gpu,*)" in install
