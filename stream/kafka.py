"""Kafka plumbing shared by the worker, the producer and the tests: topics, producers, consumers."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from stream.exceptions import BrokerUnavailable, KafkaSecurityError
from stream.security import SecurityProtocol, ssl_context
from stream.settings import StreamSettings

log = logging.getLogger(__name__)


def client_options(settings: StreamSettings) -> dict[str, Any]:
    """The bootstrap servers, TLS and SASL keyword arguments of every aiokafka client we build.

    The one place settings become connection options, so no client is left on plain text
    (tests/stream/test_kafka_security.py checks that every client is built with them).
    """
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": protocol.value,
    }
    if protocol.uses_ssl:
        options["ssl_context"] = _ssl_context(settings)
    if protocol.uses_sasl:
        options.update(_sasl_options(settings))
    return options


def _ssl_context(settings: StreamSettings) -> ssl.SSLContext:
    files = (settings.kafka_ssl_ca_file, settings.kafka_ssl_cert_file, settings.kafka_ssl_key_file)
    try:
        return ssl_context(*files)
    except ValueError as e:  # the files changed since the settings were checked
        raise KafkaSecurityError(
            f"FINSENT_KAFKA_SSL_CA_FILE/CERT_FILE/KEY_FILE: cannot load them any more ({e})"
        ) from e


def _sasl_options(settings: StreamSettings) -> dict[str, str]:
    mechanism, username = settings.kafka_sasl_mechanism, settings.kafka_sasl_username
    password = settings.kafka_sasl_password
    if mechanism is None or username is None or password is None:  # settings checks prevent it
        raise KafkaSecurityError(
            "FINSENT_KAFKA_SASL_MECHANISM, _USERNAME and _PASSWORD are all required with "
            f"FINSENT_KAFKA_SECURITY_PROTOCOL {settings.kafka_security_protocol}"
        )
    return {
        "sasl_mechanism": mechanism.value,
        "sasl_plain_username": username,
        "sasl_plain_password": password.get_secret_value(),
    }


def pipeline_topics(settings: StreamSettings) -> list[str]:
    """Every topic the pipeline reads or writes."""
    return [settings.topic_raw, settings.topic_scored, settings.topic_dlq, settings.topic_alerts]


async def ensure_topics(settings: StreamSettings, names: Iterable[str] | None = None) -> None:
    """Create the topics that do not exist yet, with `settings.topic_partitions` partitions."""
    wanted = list(names) if names is not None else pipeline_topics(settings)
    admin = AIOKafkaAdminClient(**client_options(settings))
    async with _explain_failed_start(settings, admin.close):
        await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        if missing:
            log.info("creating topics %s", ", ".join(missing))
            new = [NewTopic(n, settings.topic_partitions, replication_factor=1) for n in missing]
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass  # another worker created it between our list and create
    finally:
        await admin.close()


@asynccontextmanager
async def open_producer(
    settings: StreamSettings, **options: object
) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer that flushes and closes on exit."""
    producer = AIOKafkaProducer(**client_options(settings), **options)
    async with _explain_failed_start(settings, producer.stop):
        await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@asynccontextmanager
async def open_consumer(
    settings: StreamSettings, *topics: str, **options: object
) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer on `topics` that closes on exit."""
    consumer = AIOKafkaConsumer(*topics, **client_options(settings), **options)
    async with _explain_failed_start(settings, consumer.stop):
        await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


@asynccontextmanager
async def _explain_failed_start(
    settings: StreamSettings, close: Callable[[], Awaitable[object]]
) -> AsyncIterator[None]:
    """A client that fails to start is closed, and the failure said as the setting to check."""
    try:
        yield
    except KafkaError as e:
        await close()
        raise _unreachable(settings) from e
    except (KeyError, ValueError) as e:
        # aiokafka's SCRAM client fails on a refusal sent in the SASL bytes (`e=unknown-user`,
        # as Tansu does) instead of as an error code: KeyError 'v' or "wrong signature".
        await close()
        if not settings.kafka_security_protocol.uses_sasl:
            raise
        raise _refused(settings) from e


def _refused(settings: StreamSettings) -> BrokerUnavailable:
    return BrokerUnavailable(
        "FINSENT_KAFKA_SASL_USERNAME / FINSENT_KAFKA_SASL_PASSWORD: the broker at "
        f"{settings.kafka_bootstrap} refused {settings.kafka_sasl_mechanism} as "
        f"{settings.kafka_sasl_username!r}"
    )


def _unreachable(settings: StreamSettings) -> BrokerUnavailable:
    where = f"FINSENT_KAFKA_BOOTSTRAP: cannot reach a Kafka broker at {settings.kafka_bootstrap}"
    protocol = settings.kafka_security_protocol
    if protocol is SecurityProtocol.PLAINTEXT:
        return BrokerUnavailable(where)
    # aiokafka logs the TLS or SASL reason and raises only "Unable to bootstrap".
    how = f"{protocol} {settings.kafka_sasl_mechanism or ''}".strip()
    return BrokerUnavailable(
        f"{where} over {how}; if it is up, check FINSENT_KAFKA_SECURITY_PROTOCOL and the "
        "FINSENT_KAFKA_SASL_* / FINSENT_KAFKA_SSL_* settings (the log above says why)"
    )
