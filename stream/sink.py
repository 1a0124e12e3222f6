"""The worker's database side: lookups and batch writes in a thread, retried while PostgreSQL is
unreachable, and a batch PostgreSQL refuses split so only the refused item is dead-lettered."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

from monitor.db import error_summary
from monitor.ingest import BatchResult, ScoredDocument, stored_documents, write_batch
from stream import metrics
from stream.batch import Accepted, Rejected, to_rejection
from stream.exceptions import StreamError
from stream.schema import InvalidRecord, RejectReason

log = logging.getLogger(__name__)
T = TypeVar("T")

# "PostgreSQL is not reachable right now": hold the batch and retry.
_UNREACHABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
# "PostgreSQL refuses this data" (a constraint, a type limit): isolate the item instead.
_REFUSED = (DataError, IntegrityError, psycopg.DataError, psycopg.IntegrityError)
_FIRST_RETRY_S = 0.2
_MAX_BACKOFF_S = 10.0


class ShutdownWithUncommittedBatch(StreamError):
    """Stopped while the database was down; the batch in hand will be replayed on restart."""


@dataclass(frozen=True, slots=True)
class Stored:
    """What a batch write kept, and what it had to dead-letter."""

    documents: list[ScoredDocument]
    refused: list[Rejected]
    result: BatchResult


class DatabaseSink:
    """Runs the blocking database calls of `monitor.ingest` off the event loop."""

    def __init__(
        self, engine: Engine, threads: Executor, stop: asyncio.Event, shutdown_grace_s: float
    ) -> None:
        self._engine = engine
        self._threads = threads
        self._stop = stop
        self._shutdown_grace_s = shutdown_grace_s

    async def stored(self, ids: Sequence[str]) -> dict[str, ScoredDocument]:
        """The documents among `ids` already in the database (a replay)."""
        return await self._retrying(stored_documents, self._engine, ids)

    async def store(
        self,
        accepted: Sequence[Accepted],
        documents: list[ScoredDocument],
        rejected: Sequence[Rejected],
    ) -> Stored:
        """Store the batch in one transaction; if PostgreSQL refuses it, item by item."""
        try:
            result = await self._retrying(
                write_batch, self._engine, documents, _rejections(rejected)
            )
            return Stored(documents, [], result)
        except _REFUSED as e:
            log.error(
                "PostgreSQL refused the batch (%s); storing it item by item", error_summary(e)
            )
        return await self._store_separately(accepted, documents, rejected)

    async def _store_separately(
        self,
        accepted: Sequence[Accepted],
        documents: list[ScoredDocument],
        rejected: Sequence[Rejected],
    ) -> Stored:
        kept: list[ScoredDocument] = []
        refused: list[Rejected] = []
        new = 0
        for item, document in zip(accepted, documents, strict=True):
            try:
                one = await self._retrying(write_batch, self._engine, [document], [])
            except _REFUSED as e:
                error = InvalidRecord(RejectReason.storage_refused, error_summary(e))
                refused.append(Rejected(item.record, error))
                continue
            kept.append(document)
            new += one.new_documents
        rest = await self._retrying(
            write_batch, self._engine, [], _rejections([*rejected, *refused])
        )
        return Stored(kept, refused, BatchResult(new, rest.minute_rows, rest.new_rejections))

    async def _retrying(self, call: Callable[..., T], *args: Any) -> T:
        """Run `call` in a thread, retrying with backoff while PostgreSQL is unreachable.

        The batch in hand is held meanwhile and nothing is committed; after a stop request it
        gives up once `shutdown_grace_s` has passed.
        """
        loop = asyncio.get_running_loop()
        delay = _FIRST_RETRY_S
        give_up_at: float | None = None
        while True:
            started = time.perf_counter()
            try:
                result = await loop.run_in_executor(self._threads, call, *args)
            except _UNREACHABLE as e:
                metrics.DATABASE_RETRIES.inc()
                if self._stop.is_set():
                    give_up_at = give_up_at or time.monotonic() + self._shutdown_grace_s
                    if time.monotonic() > give_up_at:
                        raise ShutdownWithUncommittedBatch(
                            "stopping with the database unreachable: the batch in hand was not "
                            "committed and will be processed again on restart"
                        ) from e
                log.warning(
                    "database unreachable (%s); holding the batch, retry in %.1fs",
                    error_summary(e),
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_S) * random.uniform(0.8, 1.2)  # noqa: S311
                continue
            metrics.DATABASE_SECONDS.observe(time.perf_counter() - started)
            return result


def _rejections(rejected: Sequence[Rejected]) -> list[Any]:
    now = datetime.now(UTC)
    return [to_rejection(r, now) for r in rejected]
