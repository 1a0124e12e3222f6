"""Settings of the stream layer: the Kafka cluster, topic names and the worker's batching."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StreamSettings(BaseSettings):
    """`FINSENT_KAFKA_BOOTSTRAP` and friends; topic names and partition counts are configurable."""

    model_config = SettingsConfigDict(
        env_prefix="FINSENT_", env_file=".env", extra="ignore", frozen=True
    )

    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_raw: str = "news.raw"
    topic_scored: str = "news.scored"
    topic_dlq: str = "news.dlq"
    topic_alerts: str = "sentiment.alerts"
    topic_partitions: int = Field(default=4, ge=1)
    consumer_group: str = "finsent-worker"
    # Worker batching: a batch closes at `max_batch` records or `batch_within_s` after it opened.
    max_batch: int = Field(default=512, ge=1, le=20_000)
    batch_within_s: float = Field(default=0.25, gt=0)
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    # How long SIGTERM waits for a database that is down before exiting without committing.
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="0 turns metrics off")

    @field_validator("kafka_bootstrap")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    @property
    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap.split(",")]
