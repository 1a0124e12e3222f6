"""Kafka plumbing shared by the worker, the producer and the tests: topics, producers, consumers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from stream.exceptions import BrokerUnavailable
from stream.settings import StreamSettings

log = logging.getLogger(__name__)


def pipeline_topics(settings: StreamSettings) -> list[str]:
    """Every topic the pipeline reads or writes."""
    return [settings.topic_raw, settings.topic_scored, settings.topic_dlq, settings.topic_alerts]


async def ensure_topics(settings: StreamSettings, names: Iterable[str] | None = None) -> None:
    """Create the topics that do not exist yet, with `settings.topic_partitions` partitions."""
    wanted = list(names) if names is not None else pipeline_topics(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        await admin.start()
    except KafkaConnectionError as e:
        await admin.close()
        raise _unreachable(settings) from e
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
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, **options)
    try:
        await producer.start()
    except KafkaError as e:
        await producer.stop()
        raise _unreachable(settings) from e
    try:
        yield producer
    finally:
        await producer.stop()


@asynccontextmanager
async def open_consumer(
    settings: StreamSettings, *topics: str, **options: object
) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer on `topics` that closes on exit."""
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=settings.bootstrap_servers, **options)
    try:
        await consumer.start()
    except KafkaError as e:
        await consumer.stop()
        raise _unreachable(settings) from e
    try:
        yield consumer
    finally:
        await consumer.stop()


def _unreachable(settings: StreamSettings) -> BrokerUnavailable:
    return BrokerUnavailable(
        f"FINSENT_KAFKA_BOOTSTRAP: cannot reach a Kafka broker at {settings.kafka_bootstrap}"
    )
