"""Baseline (c) of the worker benchmark: the usual per-message faust agent.

One `async for` event -> score that one item -> a one-row transaction, offsets committed by faust.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import faust

from bench.bench_worker import fresh_database, fresh_topics, items, produce
from model.scorer import Document, Scorer
from monitor.storage.db import make_engine
from monitor.storage.ingest import write_batch
from stream.batch import Accepted, RawRecord, to_document
from stream.broker import EmbeddedBroker
from stream.schema import parse_news


def run_baseline(broker: EmbeddedBroker, scorer: Scorer, n: int = 1500) -> tuple[float, None, None]:
    settings, database = fresh_topics(broker.bootstrap, 1), fresh_database()
    asyncio.run(produce(settings, items(n)))
    engine = make_engine(database)
    app = faust.App(
        settings.consumer_group,
        broker=f"kafka://{broker.bootstrap}",
        web_enabled=False,
        topic_disable_leader=True,
        store="memory://",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
        topic_partitions=settings.topic_partitions,
    )
    topic = app.topic(settings.topic_raw, value_type=bytes, value_serializer="raw")
    marks: list[float] = []
    stopping: list[asyncio.Future[None]] = []

    @app.agent(topic)
    async def score_one(stream: faust.Stream) -> None:
        async for event in stream.events():
            item = parse_news(event.value, default_published_at=datetime.now(UTC))
            prediction = scorer.score_documents([Document(item.headline, item.body)])[0]
            record = RawRecord(
                settings.topic_raw, event.message.partition, event.message.offset, 0, None, None
            )
            write_batch(engine, [to_document(Accepted(item, record), prediction, "baseline")], [])
            marks.append(time.perf_counter())
            if len(marks) == n:
                # Not awaited: stopping waits for this agent to finish its current event.
                stopping.append(asyncio.ensure_future(worker.stop()))

    worker = faust.Worker(app, loglevel="WARNING", quiet=True)
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    engine.dispose()
    return (len(marks) - 1) / (marks[-1] - marks[0]), None, None
