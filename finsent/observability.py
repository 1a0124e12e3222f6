"""One HTTP endpoint per long-running process: Prometheus `/metrics`, `/healthz` (the event loop
turns) and `/readyz` (PostgreSQL and Kafka answered lately), on `FINSENT_METRICS_ADDRESS`."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from finsent.exceptions import MetricsUnavailable
from finsent.health import Health, Probe, Verdict, watching

log = logging.getLogger(__name__)

METRICS_PATH, LIVE_PATH, READY_PATH = "/metrics", "/healthz", "/readyz"


class MetricsSettings(BaseSettings):
    """`FINSENT_METRICS_ADDRESS`, and a port per process so a worker and an alerter can share a
    host: `FINSENT_METRICS_PORT` (worker) and `FINSENT_ALERTER_METRICS_PORT`."""

    model_config = SettingsConfigDict(
        env_prefix="FINSENT_", env_file=".env", extra="ignore", frozen=True
    )

    metrics_address: str = Field(default="127.0.0.1", min_length=1)
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="0 turns it off")
    alerter_metrics_port: int = Field(default=9465, ge=0, le=65535, description="0 turns it off")
    # The old name of metrics_address, still read; never set after validation.
    metrics_host: str | None = Field(default=None, exclude=True, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _renamed_metrics_host(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "metrics_host" not in data:
            return data
        old = data["metrics_host"]
        rest = {k: v for k, v in data.items() if k != "metrics_host"}
        if not old:
            return rest  # `FINSENT_METRICS_HOST=` sets nothing
        if rest.get("metrics_address", old) != old:
            return data  # both set, and they differ: `_renamed` says so
        log.warning("FINSENT_METRICS_HOST was renamed FINSENT_METRICS_ADDRESS; please rename it")
        return {**rest, "metrics_address": old}

    @field_validator("metrics_host")
    @classmethod
    def _renamed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            raise ValueError(
                "renamed FINSENT_METRICS_ADDRESS, which is set to "
                f"{info.data.get('metrics_address')!r}; keep only FINSENT_METRICS_ADDRESS"
            )
        return value


class MetricsServer:
    """A threaded HTTP server for the three paths; `close()` stops it and frees the port."""

    def __init__(self, address: str, port: int, registry: CollectorRegistry, health: Health):
        self._http = ThreadingHTTPServer((address, port), _handler(registry, health))
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="finsent-metrics", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()


@asynccontextmanager
async def exposed(
    address: str,
    port: int,
    *,
    setting: str,
    registry: CollectorRegistry,
    probes: Mapping[str, Probe],
) -> AsyncIterator[Health | None]:
    """Serve the endpoint and keep the health checks running for as long as the block runs;
    `port` 0: neither (None). `setting` names the port's variable in the error on a bad bind."""
    if not port:
        yield None
        return
    health = Health(tuple(probes))
    try:
        server = MetricsServer(address, port, registry, health)
    except OSError as e:
        raise MetricsUnavailable(
            f"{setting}: cannot serve metrics on {address}:{port} ({e.strerror or e}); "
            "choose another port or FINSENT_METRICS_ADDRESS, or 0 to turn metrics off"
        ) from e
    log.info("metrics, /healthz and /readyz on http://%s:%d", address, server.port)
    try:
        async with watching(health, probes):
            yield health
    finally:
        server.close()


def _handler(registry: CollectorRegistry, health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == METRICS_PATH:
                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                self._answer(200, encoder(registry), content_type)
            elif path in (LIVE_PATH, READY_PATH):
                self._verdict(health.liveness() if path == LIVE_PATH else health.readiness())
            else:
                self._answer(404, b"try /metrics, /healthz or /readyz\n", "text/plain")

        def _verdict(self, verdict: Verdict) -> None:
            body = "\n".join(("ok" if verdict.ok else "not ok", *verdict.lines, ""))
            self._answer(200 if verdict.ok else 503, body.encode(), "text/plain; charset=utf-8")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            log.debug("%s %s", self.address_string(), format % args)

    return Handler
