"""Batches in flight, at most `depth`: batch N+1 is validated and scored while batch N is written,
and every stage hands batches on in fetch order (even one that works on a few at once).

The last stage commits, so commits follow fetch order. A stage that fails abandons its batch and
every later one (none of them reaches the commit); earlier batches still finish.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from stream import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of a batch's way: `run` takes what the previous stage returned."""

    name: str
    run: Callable[[Any], Awaitable[Any]]
    # Batches this stage may work on at once; they still leave it in the order they came.
    concurrency: int = 1

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"stage {self.name}: concurrency must be >= 1, got {self.concurrency}")


class _End:
    """Sent down the queues by `close`: no more batches."""


_END = _End()


class Pipeline:
    """Each stage is a task reading its own queue; a semaphore bounds the batches in flight."""

    def __init__(self, depth: int, stages: Sequence[Stage]) -> None:
        if depth < 1 or not stages:
            raise ValueError(f"a pipeline needs depth >= 1 and a stage, got {depth}, {stages!r}")
        self._slots = asyncio.Semaphore(depth)
        self._in_flight = 0
        self._settled = asyncio.Event()
        self._settled.set()
        self._failure: Exception | None = None
        self._failed_at = 0  # the sequence number of the batch that failed
        self._submitted = 0
        self.failed = asyncio.Event()
        self._running: set[asyncio.Task[object]] = set()
        queues: list[asyncio.Queue[Any]] = [asyncio.Queue() for _ in stages]
        self._inbox = queues[0]
        outboxes: list[asyncio.Queue[Any] | None] = [*queues[1:], None]
        self._tasks = [
            asyncio.create_task(self._serve(stage, inbox, outbox), name=f"pipeline-{stage.name}")
            for stage, inbox, outbox in zip(stages, queues, outboxes, strict=True)
        ]
        metrics.PIPELINE_DEPTH.set(0)

    @property
    def in_flight(self) -> int:
        """Batches submitted and not yet through the last stage (or abandoned)."""
        return self._in_flight

    async def reserve(self) -> None:
        """Wait for room for one more batch: what keeps memory flat under a backlog."""
        if self._slots.locked():
            started = time.perf_counter()
            await self._slots.acquire()
            metrics.PIPELINE_FULL_SECONDS.inc(time.perf_counter() - started)
        else:
            await self._slots.acquire()

    def unreserve(self) -> None:
        """Give back a reserved slot that no batch used."""
        self._slots.release()

    def submit(self, batch: object) -> None:
        """Start a batch on its way; call `reserve` first."""
        self._in_flight += 1
        self._submitted += 1
        metrics.PIPELINE_DEPTH.set(self._in_flight)
        self._settled.clear()
        self._inbox.put_nowait((self._submitted, batch))

    async def drain(self) -> None:
        """Wait until every submitted batch is through the last stage or abandoned."""
        await self._settled.wait()

    async def close(self) -> None:
        """Drain, stop the stages, and raise the earliest failed batch's error, if any."""
        self._inbox.put_nowait(_END)
        await asyncio.gather(*self._tasks)
        if self._failure is not None:
            raise self._failure

    def cancel(self) -> None:
        """Stop the stages at once (the worker is being torn down); nothing more commits."""
        for task in [*self._tasks, *self._running]:
            task.cancel()

    async def _serve(
        self, stage: Stage, inbox: asyncio.Queue[Any], outbox: asyncio.Queue[Any] | None
    ) -> None:
        """Start batches as they arrive, up to `stage.concurrency` at once."""
        started: asyncio.Queue[Any] = asyncio.Queue()
        slots = asyncio.Semaphore(stage.concurrency)
        forwarding = asyncio.create_task(self._forward(stage, started, outbox, slots))
        try:
            while not isinstance(item := await inbox.get(), _End):
                sequence, batch = item
                if self._abandoned(sequence):
                    self._settle()
                    continue
                await slots.acquire()
                running = asyncio.create_task(self._timed(stage, batch))
                self._running.add(running)
                running.add_done_callback(self._running.discard)
                started.put_nowait((sequence, running))
            started.put_nowait(_END)
            await forwarding
        finally:
            forwarding.cancel()

    async def _forward(
        self,
        stage: Stage,
        started: asyncio.Queue[Any],
        outbox: asyncio.Queue[Any] | None,
        slots: asyncio.Semaphore,
    ) -> None:
        """Pass results on in the order the batches came in, whatever order they finish in."""
        while not isinstance(item := await started.get(), _End):
            sequence, running = item
            try:
                result = await running
            except Exception as e:  # noqa: BLE001 - re-raised by close()
                self._fail(stage, sequence, e)
                self._settle()
                continue
            finally:
                slots.release()
            if outbox is None or self._abandoned(sequence):
                self._settle()
            else:
                outbox.put_nowait((sequence, result))
        if outbox is not None:
            outbox.put_nowait(_END)

    @staticmethod
    async def _timed(stage: Stage, batch: object) -> object:
        started = time.perf_counter()
        try:
            return await stage.run(batch)
        finally:
            metrics.STAGE_SECONDS.labels(stage.name).observe(time.perf_counter() - started)

    def _abandoned(self, sequence: int) -> bool:
        """A batch after one that failed goes no further: its offsets must not be committed."""
        return self._failure is not None and sequence > self._failed_at

    def _fail(self, stage: Stage, sequence: int, error: Exception) -> None:
        log.error("stage %s failed (%s); abandoning the batches after it", stage.name, error)
        # A later stage may still fail on an earlier batch: the earliest failure counts.
        if self._failure is None or sequence < self._failed_at:
            self._failure = error
            self._failed_at = sequence
        self.failed.set()

    def _settle(self) -> None:
        self._in_flight -= 1
        metrics.PIPELINE_DEPTH.set(self._in_flight)
        self._slots.release()
        if self._in_flight == 0:
            self._settled.set()
