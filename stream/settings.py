"""Settings of the stream layer: the Kafka cluster, topic names and the worker's batching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from stream.security import (
    SaslMechanism,
    SecurityProtocol,
    check_ca_file,
    check_cert_and_key,
    check_readable,
)

# The settings `finsent worker --help` lists.
WORKER_TUNING = (
    "max_batch",
    "batch_within_s",
    "pipeline_depth",
    "session_timeout_ms",
    "shutdown_grace_s",
)
_SASL_FIELDS = ("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password")
_SSL_FIELDS = ("kafka_ssl_ca_file", "kafka_ssl_cert_file", "kafka_ssl_key_file")
# What a plain-text broker (the embedded one) must not inherit from a managed cluster's settings.
KAFKA_SECURITY_ENV = tuple(f"FINSENT_{name.upper()}" for name in (*_SASL_FIELDS, *_SSL_FIELDS))


class StreamSettings(BaseSettings):
    """`FINSENT_KAFKA_BOOTSTRAP` and friends; topic names and partition counts are configurable."""

    model_config = SettingsConfigDict(
        env_prefix="FINSENT_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        # str(ValidationError) would otherwise quote the input: a SASL password.
        hide_input_in_errors=True,
    )

    kafka_bootstrap: str = "127.0.0.1:9092"
    # TLS and SASL (stream/security.py). Each check reads only fields declared above it, and
    # validate_default runs the "required with" checks on unset fields too.
    kafka_security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    kafka_sasl_mechanism: SaslMechanism | None = Field(default=None, validate_default=True)
    kafka_sasl_username: str | None = Field(default=None, validate_default=True)
    kafka_sasl_password: SecretStr | None = Field(default=None, validate_default=True)
    kafka_ssl_ca_file: Path | None = None
    kafka_ssl_cert_file: Path | None = None
    kafka_ssl_key_file: Path | None = Field(default=None, validate_default=True)
    topic_raw: str = "news.raw"
    topic_scored: str = "news.scored"
    topic_dlq: str = "news.dlq"
    topic_alerts: str = "sentiment.alerts"
    topic_partitions: int = Field(default=4, ge=1)
    consumer_group: str = "finsent-worker"
    # Worker batching: a batch closes at `max_batch` records or `batch_within_s` after it opened.
    # The descriptions are `finsent worker --help`'s (WORKER_TUNING).
    max_batch: int = Field(
        default=512, ge=1, le=20_000, description="a batch closes at this many records"
    )
    batch_within_s: float = Field(
        default=0.25,
        gt=0,
        description="or this many seconds after it opened, whichever comes first",
    )
    # stream/pipeline.py: one batch per stage (prepare, score, store, publish) keeps every stage
    # busy; more only buffers.
    pipeline_depth: int = Field(
        default=4,
        ge=1,
        le=32,
        description=(
            "batches in flight (fetched, not yet committed): batch N+1 is validated and scored "
            "while batch N is written; 1 handles one batch at a time"
        ),
    )
    session_timeout_ms: int = Field(
        default=10_000, ge=1_000, description="consumer-group session timeout"
    )
    shutdown_grace_s: float = Field(
        default=10.0,
        ge=0,
        description=(
            "on SIGTERM with the database down, how long to keep retrying before exiting "
            "without committing"
        ),
    )
    # `finsent dlq replay` sends a dead letter back to `news.raw` at most this many times.
    dlq_max_redrives: int = Field(default=3, ge=0)
    # The worker's /metrics, /healthz and /readyz: finsent.observability.MetricsSettings.

    @field_validator("kafka_bootstrap")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    @field_validator(*_SASL_FIELDS, *_SSL_FIELDS, mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # `FINSENT_KAFKA_SSL_CA_FILE=` unsets it (and would otherwise be the path ".").
        return None if value == "" else value

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper_case(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator(*_SASL_FIELDS)
    @classmethod
    def _sasl_part(cls, value: Any, info: ValidationInfo) -> Any:
        protocol = info.data.get("kafka_security_protocol")
        if protocol is None:
            return value  # the protocol's own error is reported
        if protocol.uses_sasl and value is None:
            raise ValueError(f"required when FINSENT_KAFKA_SECURITY_PROTOCOL is {protocol}")
        if not protocol.uses_sasl and value is not None:
            raise ValueError(
                "only used with FINSENT_KAFKA_SECURITY_PROTOCOL SASL_PLAINTEXT or SASL_SSL, "
                f"which is {protocol}"
            )
        return value

    @field_validator(*_SSL_FIELDS)
    @classmethod
    def _ssl_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        protocol = info.data.get("kafka_security_protocol")
        if value is not None:
            if protocol is not None and not protocol.uses_ssl:
                raise ValueError(
                    f"only used with FINSENT_KAFKA_SECURITY_PROTOCOL SSL or SASL_SSL, which is "
                    f"{protocol}"
                )
            check_readable(value)
        if info.field_name == "kafka_ssl_ca_file" and value is not None:
            check_ca_file(value)
        if info.field_name == "kafka_ssl_key_file" and "kafka_ssl_cert_file" in info.data:
            _check_pair(info.data["kafka_ssl_cert_file"], value)
        return value

    @property
    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap.split(",")]


def _check_pair(cert_file: Path | None, key_file: Path | None) -> None:
    """A client certificate goes with its key; a key alone is a mistake."""
    if cert_file is not None and key_file is None:
        raise ValueError(
            "required when FINSENT_KAFKA_SSL_CERT_FILE is set (it may name the same file)"
        )
    if cert_file is None and key_file is not None:
        raise ValueError("only used with FINSENT_KAFKA_SSL_CERT_FILE, which is not set")
    if cert_file is not None and key_file is not None:
        check_cert_and_key(cert_file, key_file)
