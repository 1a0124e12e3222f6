"""Helpers the worker and producer tests share: feed a topic, read one back, count rows."""

from __future__ import annotations

import asyncio
import json
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from monitor.storage.settings import MonitorSettings
from stream.kafka import client_options, ensure_topics, open_producer
from stream.settings import StreamSettings


async def send_values(stream: StreamSettings, values: list[bytes]) -> None:
    await ensure_topics(stream)
    async with open_producer(stream, max_request_size=4 * 1024 * 1024, linger_ms=10) as producer:
        pending = [await producer.send(stream.topic_raw, v) for v in values]
        await asyncio.gather(*pending)


async def read_topic(stream: StreamSettings, topic: str, *, expect: int, timeout_s: float = 90):
    """All records of `topic` from the start, once `expect` arrived (or the timeout passed)."""
    consumer = AIOKafkaConsumer(
        **client_options(stream),
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(stream.topic_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records = []
        deadline = time.monotonic() + timeout_s
        while len(records) < expect and time.monotonic() < deadline:
            fetched = await consumer.getmany(timeout_ms=500)
            for batch in fetched.values():
                records.extend(batch)
        # A short grace period shows extra records too, should there be any.
        fetched = await consumer.getmany(timeout_ms=1000)
        for batch in fetched.values():
            records.extend(batch)
        return records
    finally:
        await consumer.stop()


def scalar(database: MonitorSettings, sql: str) -> int:
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text(sql)) or 0)
    finally:
        engine.dispose()


def wait_for_count(
    database: MonitorSettings, sql: str, expected: int, timeout_s: float = 120
) -> int:
    deadline = time.monotonic() + timeout_s
    value = scalar(database, sql)
    while value < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        value = scalar(database, sql)
    return value


def headline_items(n: int, *, prefix: str = "item") -> list[bytes]:
    return [
        json.dumps(
            {
                "id": f"{prefix}-{i}",
                "headline": f"Contoso Systems $CTSO shares move {i % 17} percent in busy trading",
                "published_at": f"2026-04-01T10:{i % 60:02d}:00Z",
            }
        ).encode()
        for i in range(n)
    ]
