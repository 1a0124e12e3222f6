"""A batch's records on the broker: `news.scored` in whole per-partition batches, dead letters to
`news.dlq` with their reason headers; `publish` returns once the broker acknowledged them all."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner

from monitor.storage.ingest import ScoredDocument
from stream.batch import Rejected, dlq_headers
from stream.scored import scored_message
from stream.settings import StreamSettings

_PARTITIONER = DefaultPartitioner()
# A dead-lettered record the broker refuses at full size goes with its first bytes only.
_DLQ_TRUNCATE_BYTES = 64 * 1024


async def publish(
    producer: AIOKafkaProducer,
    settings: StreamSettings,
    documents: list[ScoredDocument],
    rejected: list[Rejected],
) -> None:
    """Send scored items and dead letters; wait until the broker has them all."""
    pending = await _send_scored(producer, settings.topic_scored, documents)
    for item in rejected:
        pending.append(await _send_dead_letter(producer, settings.topic_dlq, item))
    if pending:
        await asyncio.gather(*pending)


async def _send_scored(
    producer: AIOKafkaProducer, topic: str, documents: list[ScoredDocument]
) -> list[asyncio.Future[Any]]:
    """Scored items in whole batches per partition: far cheaper than one `send` per item.

    Partitions are chosen by the id's hash, as a keyed `send` would choose them.
    """
    partitions = sorted(await producer.partitions_for(topic))
    by_partition: dict[int, list[tuple[bytes, bytes]]] = defaultdict(list)
    for doc in documents:
        key = doc.id.encode()
        by_partition[_PARTITIONER(key, partitions, partitions)].append((key, scored_message(doc)))
    pending: list[asyncio.Future[Any]] = []
    for partition, messages in by_partition.items():
        batch = producer.create_batch()
        for key, value in messages:
            if batch.append(key=key, value=value, timestamp=None) is None:
                pending.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
        pending.append(await producer.send_batch(batch, topic, partition=partition))
    return pending


async def _send_dead_letter(
    producer: AIOKafkaProducer, topic: str, item: Rejected
) -> asyncio.Future[Any]:
    value = item.record.value or b""
    headers = dlq_headers(item)
    try:
        sent: asyncio.Future[Any] = await producer.send(
            topic, value, key=item.record.key, headers=headers
        )
        return sent
    except MessageSizeTooLargeError:
        headers.append(("finsent-truncated-from", str(len(value)).encode()))
        truncated: asyncio.Future[Any] = await producer.send(
            topic, value[:_DLQ_TRUNCATE_BYTES], key=item.record.key, headers=headers
        )
        return truncated
