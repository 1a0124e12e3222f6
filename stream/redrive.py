"""The Kafka side of `finsent dlq`: read `news.dlq` from its beginning to its end, and send chosen
dead letters back to `news.raw` (stream/dlq.py decides which)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from stream.dlq import (
    DeadLetter,
    DeadLetters,
    Marker,
    collect,
    from_record,
    marker_headers,
    redrive_headers,
)
from stream.exceptions import RedriveFailed
from stream.kafka import open_consumer, open_producer
from stream.settings import StreamSettings

log = logging.getLogger(__name__)
# As large as the worker's own limits, so every dead letter it wrote can be read and sent back.
_MAX_BYTES = 8 * 1024 * 1024
# Stop reading if a partition sends nothing this long before reaching its end.
_IDLE_S = 5.0


async def read_dead_letters(settings: StreamSettings) -> DeadLetters:
    """Every record in `news.dlq` up to the end it had when the read began (none if no topic).

    Partitions are assigned, not joined as a group: nothing is committed and no group waits.
    """
    topic = settings.topic_dlq
    async with open_consumer(
        settings,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=2 * _MAX_BYTES,
        max_partition_fetch_bytes=_MAX_BYTES,
    ) as consumer:
        partitions = await _partitions(consumer, topic)
        if not partitions:
            return collect(0, [])
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[DeadLetter | Marker | None] = []
        async for tp, message in _until_end(consumer):
            records.append(
                from_record(
                    tp.partition,
                    message.offset,
                    message.timestamp,
                    message.key,
                    message.value,
                    message.headers,
                )
            )
        return collect(len(partitions), records)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    if topic not in await consumer.topics():
        return []
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


async def _until_end(consumer: AIOKafkaConsumer) -> AsyncIterator[tuple[TopicPartition, Any]]:
    """Yield (partition, record) up to the high watermark each partition had when first fetched.

    The watermark comes from the fetch responses: the embedded broker's ListOffsets "latest"
    answers the last batch's first offset + 1, which would cut off the newest records.
    """
    ends: dict[TopicPartition, int] = {}
    remaining = set(consumer.assignment())
    idle_since = time.monotonic()
    while remaining:
        fetched = await consumer.getmany(*remaining, timeout_ms=500)
        for tp, batch in fetched.items():
            end = ends.setdefault(tp, consumer.highwater(tp))
            for message in batch:
                if message.offset < end:
                    yield tp, message
        for tp in list(remaining):
            watermark = consumer.highwater(tp)
            if watermark is None:
                continue  # no fetch response for it yet
            if await consumer.position(tp) >= ends.setdefault(tp, watermark):
                remaining.discard(tp)
        if fetched:
            idle_since = time.monotonic()
        elif remaining and time.monotonic() - idle_since > _IDLE_S:
            names = ", ".join(sorted(f"{tp.topic}:{tp.partition}" for tp in remaining))
            log.warning("%s: nothing for %.0f s short of the end; stopped there", names, _IDLE_S)
            return


async def redrive(settings: StreamSettings, letters: Sequence[DeadLetter]) -> None:
    """Send `letters` back to `news.raw`, each with its re-drive count, then mark them re-driven.

    The marks go only after the broker acknowledged every record: a failure in between leaves
    them unmarked, and replaying again is safe because the sink stores each item id once.
    """
    if not letters:
        return
    try:
        async with open_producer(
            settings, acks="all", linger_ms=5, max_request_size=_MAX_BYTES
        ) as producer:
            sent = [
                await producer.send(
                    settings.topic_raw, d.value, key=d.key, headers=redrive_headers(d)
                )
                for d in letters
            ]
            await asyncio.gather(*sent)
            marks = [
                await producer.send(
                    settings.topic_dlq,
                    b"",
                    key=str(d.position).encode(),
                    partition=d.position.partition,
                    headers=marker_headers(d),
                )
                for d in letters
            ]
            await asyncio.gather(*marks)
    except KafkaError as e:
        raise RedriveFailed(
            f"sending to {settings.topic_raw} failed ({type(e).__name__}: {e}); "
            "replaying again is safe: the sink stores each item once"
        ) from e
