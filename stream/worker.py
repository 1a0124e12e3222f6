"""The stream worker: consume `news.raw` in batches, validate, score, store, publish, then commit.

Offsets are committed only after the batch's database transaction has committed and its
`news.scored` and `news.dlq` records were acknowledged, so a crash replays the batch and the
idempotent sink (monitor.storage.ingest) stores and counts each item once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaError,
    MessageSizeTooLargeError,
)
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import Engine

from model.scorer import Document, Prediction
from monitor.storage.ingest import ScoredDocument
from stream import metrics
from stream.batch import (
    PreparedBatch,
    RawRecord,
    Rejected,
    dlq_headers,
    prepare,
    to_document,
)
from stream.kafka import client_options, ensure_topics
from stream.scored import scored_message
from stream.settings import StreamSettings
from stream.sink import DatabaseSink

log = logging.getLogger(__name__)
_PARTITIONER = DefaultPartitioner()
# A dead-lettered record the broker refuses at full size goes with its first bytes only.
_DLQ_TRUNCATE_BYTES = 64 * 1024


class BatchScorer(Protocol):
    """What the worker needs of a model: `model.Scorer`, or a stand-in in benchmarks."""

    @property
    def model_version(self) -> str: ...

    def score_documents(self, docs: Sequence[Document]) -> list[Prediction]: ...


@dataclass
class _FinishBatchBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Partitions leave this worker only after the batch in hand is committed."""

    in_flight: asyncio.Lock

    async def on_partitions_revoked(self, revoked: object) -> None:
        async with self.in_flight:
            pass

    async def on_partitions_assigned(self, assigned: object) -> None:
        log.info("assigned partitions: %s", sorted(str(tp) for tp in assigned))  # type: ignore[attr-defined]


class Worker:
    """One worker process's consume-score-store loop; several share partitions as a group."""

    def __init__(self, settings: StreamSettings, engine: Engine, scorer: BatchScorer) -> None:
        self.settings = settings
        self.scorer = scorer
        self._engine = engine
        self._in_flight = asyncio.Lock()
        self._stop = asyncio.Event()
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="finsent-worker")

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until `stop` is set; the batch in hand is finished first."""
        self._stop = stop
        self._sink = DatabaseSink(self._engine, self._threads, stop, self.settings.shutdown_grace_s)
        await ensure_topics(self.settings)
        consumer = self._consumer()
        producer = AIOKafkaProducer(
            **client_options(self.settings),
            acks="all",
            linger_ms=5,
            max_batch_size=1024 * 1024,
            max_request_size=8 * 1024 * 1024,
        )
        consumer.subscribe(
            [self.settings.topic_raw], listener=_FinishBatchBeforeRevoke(self._in_flight)
        )
        await producer.start()
        await consumer.start()
        log.info("worker consuming %s as %s", self.settings.topic_raw, self.settings.consumer_group)
        try:
            while not stop.is_set():
                records = await self._next_batch(consumer)
                if records:
                    async with self._in_flight:
                        await self._handle(records, consumer, producer)
        finally:
            await consumer.stop()
            await producer.stop()
            self._threads.shutdown(wait=True)

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            **client_options(self.settings),
            group_id=self.settings.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.settings.max_batch,
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=max(100, self.settings.session_timeout_ms // 3),
            # A database outage pauses polling; don't let that alone trigger a rebalance.
            max_poll_interval_ms=3_600_000,
            fetch_max_bytes=16 * 1024 * 1024,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )

    async def _next_batch(self, consumer: AIOKafkaConsumer) -> list[RawRecord]:
        """Up to `max_batch` records, waiting at most `batch_within_s` to fill the batch."""
        deadline = time.monotonic() + self.settings.batch_within_s
        records: list[RawRecord] = []
        while len(records) < self.settings.max_batch and not self._stop.is_set():
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                break
            fetched = await consumer.getmany(
                timeout_ms=remaining_ms, max_records=self.settings.max_batch - len(records)
            )
            if not fetched:
                break
            for batch in fetched.values():
                records.extend(
                    RawRecord(
                        m.topic, m.partition, m.offset, m.timestamp, m.key, m.value, m.headers
                    )
                    for m in batch
                )
        return records

    async def _handle(
        self,
        records: list[RawRecord],
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
    ) -> None:
        metrics.ITEMS_IN.inc(len(records))
        metrics.BATCH_SIZE.observe(len(records))
        prepared = prepare(records)
        documents = await self._score(prepared)
        stored = await self._sink.store(prepared.accepted, documents, prepared.rejected)
        rejected = [*prepared.rejected, *stored.refused]
        await self._publish(producer, stored.documents, rejected)
        await self._commit(consumer, records)
        metrics.ITEMS_NEW.inc(stored.result.new_documents)
        for item in rejected:
            metrics.ITEMS_REJECTED.labels(item.error.reason.value).inc()
        committed = time.time()
        for record in records:
            metrics.INGEST_TO_COMMIT.observe(max(0.0, committed - record.timestamp_ms / 1000))

    async def _score(self, prepared: PreparedBatch) -> list[ScoredDocument]:
        """Score the batch's items; those already stored (a replay) keep their stored scores."""
        if not prepared.accepted:
            return []
        loop = asyncio.get_running_loop()
        ids = [a.item.id for a in prepared.accepted]
        known = await self._sink.stored(ids)
        fresh = [a for a in prepared.accepted if a.item.id not in known]
        scored: dict[str, ScoredDocument] = {}
        if fresh:
            docs = [Document(a.item.headline, a.item.body) for a in fresh]
            started = time.perf_counter()
            predictions = await loop.run_in_executor(
                self._threads, self.scorer.score_documents, docs
            )
            metrics.SCORING_SECONDS.observe(time.perf_counter() - started)
            metrics.ITEMS_SCORED.inc(len(predictions))
            model = self.scorer.model_version
            scored = {
                a.item.id: to_document(a, p, model) for a, p in zip(fresh, predictions, strict=True)
            }
        return [known.get(i) or scored[i] for i in ids]

    async def _publish(
        self,
        producer: AIOKafkaProducer,
        documents: list[ScoredDocument],
        rejected: list[Rejected],
    ) -> None:
        """Send scored items and dead letters; wait until the broker has them all."""
        pending = await self._send_scored(producer, documents)
        for item in rejected:
            pending.append(await self._send_dead_letter(producer, item))
        if pending:
            await asyncio.gather(*pending)

    async def _send_scored(
        self, producer: AIOKafkaProducer, documents: list[ScoredDocument]
    ) -> list[asyncio.Future[Any]]:
        """Scored items in whole batches per partition: far cheaper than one `send` per item.

        Partitions are chosen by the id's hash, as a keyed `send` would choose them.
        """
        topic = self.settings.topic_scored
        partitions = sorted(await producer.partitions_for(topic))
        by_partition: dict[int, list[ScoredDocument]] = defaultdict(list)
        for doc in documents:
            by_partition[_PARTITIONER(doc.id.encode(), partitions, partitions)].append(doc)
        pending: list[asyncio.Future[Any]] = []
        for partition, docs in by_partition.items():
            batch = producer.create_batch()
            for doc in docs:
                key, value = doc.id.encode(), scored_message(doc)
                if batch.append(key=key, value=value, timestamp=None) is None:
                    pending.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)
            pending.append(await producer.send_batch(batch, topic, partition=partition))
        return pending

    async def _send_dead_letter(
        self, producer: AIOKafkaProducer, item: Rejected
    ) -> asyncio.Future[Any]:
        value = item.record.value or b""
        headers = dlq_headers(item)
        try:
            sent: asyncio.Future[Any] = await producer.send(
                self.settings.topic_dlq, value, key=item.record.key, headers=headers
            )
            return sent
        except MessageSizeTooLargeError:
            headers.append(("finsent-truncated-from", str(len(value)).encode()))
            truncated: asyncio.Future[Any] = await producer.send(
                self.settings.topic_dlq,
                value[:_DLQ_TRUNCATE_BYTES],
                key=item.record.key,
                headers=headers,
            )
            return truncated

    async def _commit(self, consumer: AIOKafkaConsumer, records: Sequence[RawRecord]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as e:
            # The partitions moved to another worker mid-batch; it replays them, and the
            # idempotent sink keeps the counts exact.
            log.warning("offset commit refused after a rebalance (%s); records will replay", e)
        except KafkaError as e:
            log.warning("offset commit failed (%s); records will replay", e)
