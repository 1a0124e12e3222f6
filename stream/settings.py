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
