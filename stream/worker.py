"""The stream worker: consume `news.raw` in batches, validate, score, store, publish, then commit.

Offsets are committed only after the batch's database transaction has committed and its
`news.scored` and `news.dlq` records were acknowledged, so a crash replays the batch and the
idempotent sink (monitor.ingest) stores and counts each item once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaError,
    MessageSizeTooLargeError,
)
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

from model.scorer import Document, Prediction
from monitor.ingest import (
    BatchResult,
    Rejection,
    ScoredDocument,
    stored_documents,
    write_batch,
)
from stream import metrics
from stream.batch import (
    PreparedBatch,
    RawRecord,
    Rejected,
    dlq_headers,
    prepare,
    scored_message,
    to_document,
    to_rejection,
)
from stream.exceptions import StreamError
from stream.kafka import ensure_topics
from stream.schema import InvalidRecord, RejectReason
from stream.settings import StreamSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Errors that mean "PostgreSQL is not reachable right now", as opposed to bad data.
_UNREACHABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
# Errors that mean "PostgreSQL refuses this data": isolate the record instead of retrying.
_REFUSED = (DataError, IntegrityError, psycopg.DataError, psycopg.IntegrityError)
_MAX_BACKOFF_S = 10.0
# A dead-lettered record the broker refuses at full size goes with its first bytes only.
_DLQ_TRUNCATE_BYTES = 64 * 1024


class BatchScorer(Protocol):
    """What the worker needs of a model: `model.Scorer`, or a stand-in in benchmarks."""

    @property
    def model_version(self) -> str: ...

    def score_documents(self, docs: Sequence[Document]) -> list[Prediction]: ...


class ShutdownWithUncommittedBatch(StreamError):
    """Stopped while the database was down; the batch in hand will be replayed on restart."""


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
        self.engine = engine
        self.scorer = scorer
        self._in_flight = asyncio.Lock()
        self._stop = asyncio.Event()
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="finsent-worker")

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until `stop` is set; the batch in hand is finished first."""
        self._stop = stop
        await ensure_topics(self.settings)
        consumer = self._consumer()
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.bootstrap_servers,
            acks="all",
            linger_ms=5,
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
            bootstrap_servers=self.settings.bootstrap_servers,
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
                    RawRecord(m.topic, m.partition, m.offset, m.timestamp, m.key, m.value)
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
        rejected = prepared.rejected
        try:
            result = await self._with_database(
                write_batch, self.engine, documents, self._rejections(rejected)
            )
        except _REFUSED as e:
            log.error("PostgreSQL refused the batch (%s); storing it item by item", _first_line(e))
            documents, refused, result = await self._store_separately(prepared, documents)
            rejected = [*rejected, *refused]
        await self._publish(producer, documents, rejected)
        await self._commit(consumer, records)
        metrics.ITEMS_NEW.inc(result.new_documents)
        for item in rejected:
            metrics.ITEMS_REJECTED.labels(item.error.reason.value).inc()
        committed = time.time()
        for record in records:
            metrics.INGEST_TO_COMMIT.observe(max(0.0, committed - record.timestamp_ms / 1000))

    @staticmethod
    def _rejections(rejected: Sequence[Rejected]) -> list[Rejection]:
        now = datetime.now(UTC)
        return [to_rejection(r, now) for r in rejected]

    async def _store_separately(
        self, prepared: PreparedBatch, documents: list[ScoredDocument]
    ) -> tuple[list[ScoredDocument], list[Rejected], BatchResult]:
        """One transaction per document, so the one PostgreSQL refuses is dead-lettered alone."""
        kept: list[ScoredDocument] = []
        refused: list[Rejected] = []
        new = 0
        for accepted, document in zip(prepared.accepted, documents, strict=True):
            try:
                one = await self._with_database(write_batch, self.engine, [document], [])
            except _REFUSED as e:
                error = InvalidRecord(RejectReason.storage_refused, _first_line(e))
                refused.append(Rejected(accepted.record, error))
                continue
            kept.append(document)
            new += one.new_documents
        rejections = self._rejections([*prepared.rejected, *refused])
        last = await self._with_database(write_batch, self.engine, [], rejections)
        return kept, refused, BatchResult(new, last.minute_rows, last.new_rejections)

    async def _score(self, prepared: PreparedBatch) -> list[ScoredDocument]:
        """Score the batch's items; those already stored (a replay) keep their stored scores."""
        if not prepared.accepted:
            return []
        loop = asyncio.get_running_loop()
        ids = [a.item.id for a in prepared.accepted]
        known = await self._with_database(stored_documents, self.engine, ids)
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

    async def _with_database(self, call: Callable[..., T], *args: Any) -> T:
        """Run a database call in a thread, retrying with backoff while PostgreSQL is unreachable.

        Consumption pauses meanwhile (the batch in hand is held, nothing is committed); after a
        stop request it gives up once `shutdown_grace_s` has passed.
        """
        loop = asyncio.get_running_loop()
        delay = 0.2
        give_up_at: float | None = None
        while True:
            started = time.perf_counter()
            try:
                result = await loop.run_in_executor(self._threads, call, *args)
            except _UNREACHABLE as e:
                metrics.DATABASE_RETRIES.inc()
                if self._stop.is_set():
                    give_up_at = give_up_at or time.monotonic() + self.settings.shutdown_grace_s
                    if time.monotonic() > give_up_at:
                        raise ShutdownWithUncommittedBatch(
                            "stopping with the database unreachable: the batch in hand was not "
                            "committed and will be processed again on restart"
                        ) from e
                log.warning(
                    "database unreachable (%s); holding the batch, retry in %.1fs",
                    _first_line(e),
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_S) * random.uniform(0.8, 1.2)  # noqa: S311
                continue
            metrics.DATABASE_SECONDS.observe(time.perf_counter() - started)
            return result

    async def _publish(
        self,
        producer: AIOKafkaProducer,
        documents: list[ScoredDocument],
        rejected: list[Rejected],
    ) -> None:
        """Send scored items and dead letters; wait until the broker has them all."""
        pending = [
            await producer.send(
                self.settings.topic_scored, scored_message(doc), key=doc.id.encode()
            )
            for doc in documents
        ]
        for item in rejected:
            pending.append(await self._send_dead_letter(producer, item))
        if pending:
            await asyncio.gather(*pending)

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


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
