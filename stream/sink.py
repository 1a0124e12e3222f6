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
from typing import Any, NoReturn, TypeVar

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from monitor.storage.db import error_summary
from monitor.storage.ingest import BatchResult, ScoredDocument, stored_documents, write_batch
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
_JITTER = (0.8, 1.2)  # each delay after the first, times a factor in this range


class ShutdownWithUncommittedBatch(StreamError):
    """Stopped while the database was down; the batch in hand will be replayed on restart."""


@dataclass(frozen=True, slots=True)
class Stored:
    """What a batch write kept, and what it had to dead-letter."""

    documents: list[ScoredDocument]
    refused: list[Rejected]
    result: BatchResult


class DatabaseSink:
    """Runs the blocking database calls of `monitor.storage.ingest` off the event loop."""

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

    async def stored_versions(self, documents: list[ScoredDocument]) -> list[ScoredDocument]:
        """`documents` as the database holds them, where it holds them."""
        known = await self.stored([d.id for d in documents])
        return [known.get(d.id, d) for d in documents]

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

        async def attempt() -> T:
            started = time.perf_counter()
            result = await loop.run_in_executor(self._threads, call, *args)
            metrics.DATABASE_SECONDS.observe(time.perf_counter() - started)
            return result

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_UNREACHABLE),
            wait=_JitteredBackoff(),
            stop=_GraceAfterStop(self._stop, self._shutdown_grace_s),
            after=_count_retry,
            before_sleep=_log_retry,
            retry_error_callback=_give_up,
        )
        result: T = await retrying(attempt)
        return result


def _rejections(rejected: Sequence[Rejected]) -> list[Any]:
    now = datetime.now(UTC)
    return [to_rejection(r, now) for r in rejected]


class _JitteredBackoff(wait_base):
    """0.2 s, then doubling up to 10 s, every delay after the first within ±20% of that."""

    def __init__(self) -> None:
        self._exponential = wait_exponential(multiplier=_FIRST_RETRY_S, max=_MAX_BACKOFF_S)

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = self._exponential(retry_state)
        if retry_state.attempt_number == 1:
            return delay
        return delay * random.uniform(*_JITTER)  # noqa: S311 - jitter, not a secret


class _GraceAfterStop(stop_base):
    """Never give up, until a stop request: then once `grace_s` has passed since the first
    failure seen after it. One per call: it remembers when that grace began."""

    def __init__(self, stop: asyncio.Event, grace_s: float) -> None:
        self._stop = stop
        self._grace_s = grace_s
        self._give_up_at: float | None = None

    def __call__(self, retry_state: RetryCallState) -> bool:
        if not self._stop.is_set():
            return False
        if self._give_up_at is None:
            self._give_up_at = time.monotonic() + self._grace_s
        return time.monotonic() > self._give_up_at


def _failure(retry_state: RetryCallState) -> Exception:
    """The error of the attempt that just failed (one of `_UNREACHABLE`, the only ones retried)."""
    error = retry_state.outcome.exception() if retry_state.outcome is not None else None
    if not isinstance(error, Exception):
        raise TypeError(f"no failed attempt in {retry_state!r}")
    return error


def _count_retry(retry_state: RetryCallState) -> None:
    metrics.DATABASE_RETRIES.inc()


def _log_retry(retry_state: RetryCallState) -> None:
    delay = retry_state.next_action.sleep if retry_state.next_action is not None else 0.0
    log.warning(
        "database unreachable (%s); holding the batch, retry in %.1fs",
        error_summary(_failure(retry_state)),
        delay,
    )


def _give_up(retry_state: RetryCallState) -> NoReturn:
    raise ShutdownWithUncommittedBatch(
        "stopping with the database unreachable: the batch in hand was not "
        "committed and will be processed again on restart"
    ) from _failure(retry_state)
