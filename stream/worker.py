"""The stream worker: consume `news.raw` in batches, validate, score, store, publish, then commit.

Batches overlap in a bounded pipeline (stream/pipeline.py): while batch N is written and
published, batch N+1 is validated and scored. Offsets are committed in fetch order, each only
after its batch's database transaction has committed and its `news.scored` and `news.dlq`
records were acknowledged, so a crash replays the batch and the idempotent sink
(monitor.storage.ingest) stores and counts each item once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from sqlalchemy import Engine

from model.scorer import Document, Prediction
from monitor.storage.ingest import ScoredDocument
from stream import metrics
from stream.batch import PreparedBatch, RawRecord, Rejected, prepare, to_document
from stream.kafka import client_options, ensure_topics
from stream.pipeline import Pipeline, Stage
from stream.publisher import publish
from stream.settings import StreamSettings
from stream.sink import DatabaseSink

log = logging.getLogger(__name__)
# Batch transactions open at once: while one waits for its commit to reach the disk, the next
# copies its rows. More would only queue on the same `sentiment_minute` rows.
_STORE_CONCURRENCY = 2


class BatchScorer(Protocol):
    """What the worker needs of a model: `model.Scorer`, or a stand-in in benchmarks."""

    @property
    def model_version(self) -> str: ...

    def score_documents(self, docs: Sequence[Document]) -> list[Prediction]: ...


@dataclass(frozen=True, slots=True)
class _Fetched:
    records: list[RawRecord]
    fetched_at: float  # time.monotonic()


@dataclass(frozen=True, slots=True)
class _Validated:
    fetched: _Fetched
    prepared: PreparedBatch
    known: dict[str, ScoredDocument]  # stored already (a replay): not scored again


@dataclass(frozen=True, slots=True)
class _Scored:
    fetched: _Fetched
    prepared: PreparedBatch
    documents: list[ScoredDocument]
    known: int


@dataclass(frozen=True, slots=True)
class _Stored:
    fetched: _Fetched
    documents: list[ScoredDocument]
    rejected: list[Rejected]
    new_documents: int


@dataclass
class _DrainBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Partitions leave this worker only after every batch in flight is committed or abandoned."""

    pipeline: Pipeline
    generation: int = 0  # counts revocations, so the fetch loop sees one happened

    async def on_partitions_revoked(self, revoked: object) -> None:
        self.generation += 1
        await self.pipeline.drain()

    async def on_partitions_assigned(self, assigned: object) -> None:
        log.info("assigned partitions: %s", sorted(str(tp) for tp in assigned))  # type: ignore[attr-defined]


class Worker:
    """One worker process's consume-score-store loop; several share partitions as a group."""

    def __init__(self, settings: StreamSettings, engine: Engine, scorer: BatchScorer) -> None:
        self.settings = settings
        self.scorer = scorer
        self._engine = engine
        self._stop = asyncio.Event()
        # The model and the database each get their own threads, so one batch's scoring
        # overlaps another's transaction; a lookup need not wait behind the writes.
        self._scoring = ThreadPoolExecutor(max_workers=1, thread_name_prefix="finsent-scorer")
        self._database = ThreadPoolExecutor(
            max_workers=_STORE_CONCURRENCY + 1, thread_name_prefix="finsent-database"
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until `stop` is set; every batch in hand is finished first."""
        self._stop = stop
        self._sink = DatabaseSink(
            self._engine, self._database, stop, self.settings.shutdown_grace_s
        )
        await ensure_topics(self.settings)
        consumer = self._consumer()
        self._producer = AIOKafkaProducer(
            **client_options(self.settings),
            acks="all",
            linger_ms=5,
            max_batch_size=1024 * 1024,
            max_request_size=8 * 1024 * 1024,
        )
        pipeline = Pipeline(self.settings.pipeline_depth, self._stages(consumer))
        listener = _DrainBeforeRevoke(pipeline)
        consumer.subscribe([self.settings.topic_raw], listener=listener)
        try:
            await self._producer.start()
            await consumer.start()
            log.info(
                "worker consuming %s as %s, up to %d batches of %d in flight",
                self.settings.topic_raw,
                self.settings.consumer_group,
                self.settings.pipeline_depth,
                self.settings.max_batch,
            )
            await self._fetch(consumer, pipeline, listener)
            await pipeline.close()
        finally:
            pipeline.cancel()
            await consumer.stop()
            await self._producer.stop()
            self._scoring.shutdown(wait=True)
            self._database.shutdown(wait=True)

    def _stages(self, consumer: AIOKafkaConsumer) -> list[Stage]:
        async def finish(stored: _Stored) -> None:
            await self._finish(consumer, stored)

        return [
            Stage("prepare", self._prepare),
            Stage("score", self._score),
            Stage("store", self._store, concurrency=_STORE_CONCURRENCY),
            Stage("publish", finish),
        ]

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

    async def _fetch(
        self, consumer: AIOKafkaConsumer, pipeline: Pipeline, listener: _DrainBeforeRevoke
    ) -> None:
        """Feed the pipeline until a stop request or a stage failure."""
        while not self._stop.is_set() and not pipeline.failed.is_set():
            await pipeline.reserve()
            generation = listener.generation
            records = await self._next_batch(consumer, pipeline)
            if records and listener.generation != generation:
                # Fetched across a rebalance: keep only what this worker still owns; the new
                # owner reads the rest from the last commit.
                owned = consumer.assignment()
                records = [r for r in records if TopicPartition(r.topic, r.partition) in owned]
            if records and not self._stop.is_set():
                pipeline.submit(_Fetched(records, time.monotonic()))
            else:
                pipeline.unreserve()

    async def _next_batch(self, consumer: AIOKafkaConsumer, pipeline: Pipeline) -> list[RawRecord]:
        """Up to `max_batch` records, waiting at most `batch_within_s` to fill the batch."""
        deadline = time.monotonic() + self.settings.batch_within_s
        records: list[RawRecord] = []
        while len(records) < self.settings.max_batch and not self._stop.is_set():
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0 or pipeline.failed.is_set():
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

    async def _prepare(self, fetched: _Fetched) -> _Validated:
        """Validate the batch and find the items already stored (a replay keeps its scores)."""
        metrics.ITEMS_IN.inc(len(fetched.records))
        metrics.BATCH_SIZE.observe(len(fetched.records))
        prepared = prepare(fetched.records)
        ids = [a.item.id for a in prepared.accepted]
        known = await self._sink.stored(ids) if ids else {}
        return _Validated(fetched, prepared, known)

    async def _score(self, validated: _Validated) -> _Scored:
        """Score the items not stored yet, in the scorer's own thread."""
        prepared, known = validated.prepared, validated.known
        fresh = [a for a in prepared.accepted if a.item.id not in known]
        scored: dict[str, ScoredDocument] = {}
        if fresh:
            docs = [Document(a.item.headline, a.item.body) for a in fresh]
            started = time.perf_counter()
            predictions = await asyncio.get_running_loop().run_in_executor(
                self._scoring, self.scorer.score_documents, docs
            )
            metrics.SCORING_SECONDS.observe(time.perf_counter() - started)
            metrics.ITEMS_SCORED.inc(len(predictions))
            model = self.scorer.model_version
            scored = {
                a.item.id: to_document(a, p, model) for a, p in zip(fresh, predictions, strict=True)
            }
        documents = [known.get(a.item.id) or scored[a.item.id] for a in prepared.accepted]
        return _Scored(validated.fetched, prepared, documents, len(known))

    async def _store(self, scored: _Scored) -> _Stored:
        """One transaction for the batch; items PostgreSQL refuses join the dead letters."""
        prepared = scored.prepared
        stored = await self._sink.store(prepared.accepted, scored.documents, prepared.rejected)
        documents = stored.documents
        if stored.result.new_documents < len(documents) - scored.known:
            # A batch still in flight when this one looked stored an id first: publish
            # the stored version, as a replay would.
            documents = await self._sink.stored_versions(documents)
        rejected = [*prepared.rejected, *stored.refused]
        return _Stored(scored.fetched, documents, rejected, stored.result.new_documents)

    async def _finish(self, consumer: AIOKafkaConsumer, stored: _Stored) -> None:
        """Publish, wait for the acknowledgements, then commit the batch's offsets."""
        await publish(self._producer, self.settings, stored.documents, stored.rejected)
        records = stored.fetched.records
        await self._commit(consumer, records)
        metrics.COMMIT_LAG.observe(time.monotonic() - stored.fetched.fetched_at)
        metrics.ITEMS_NEW.inc(stored.new_documents)
        for item in stored.rejected:
            metrics.ITEMS_REJECTED.labels(item.error.reason.value).inc()
        committed = time.time()
        for record in records:
            metrics.INGEST_TO_COMMIT.observe(max(0.0, committed - record.timestamp_ms / 1000))

    async def _commit(self, consumer: AIOKafkaConsumer, records: Sequence[RawRecord]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        owned = consumer.assignment()
        if not owned.issuperset(offsets):
            # Handed to another worker meanwhile: it replays them from the last commit.
            gone = sorted(str(tp) for tp in offsets.keys() - owned)
            log.warning("not committing %s: no longer assigned", gone)
            offsets = {tp: offset for tp, offset in offsets.items() if tp in owned}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as e:
            # The partitions moved to another worker mid-batch; it replays them, and the
            # idempotent sink keeps the counts exact.
            log.warning("offset commit refused after a rebalance (%s); records will replay", e)
        except KafkaError as e:
            log.warning("offset commit failed (%s); records will replay", e)
