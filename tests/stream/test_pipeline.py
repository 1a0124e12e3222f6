"""The worker's pipeline on its own: order kept through overlapping stages, depth bounded, and a
failure abandoning exactly the batches after it."""

from __future__ import annotations

import asyncio
import random

import pytest

from stream.pipeline import Pipeline, Stage


class Recorder:
    """Stages that sleep a seeded random while, noting what runs at once and what finished."""

    def __init__(self, seed: int, fail_at: int | None = None) -> None:
        self.random = random.Random(seed)
        self.fail_at = fail_at
        self.running = 0
        self.most_running = 0
        self.finished: list[int] = []

    async def work(self, batch: int) -> int:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(self.random.uniform(0, 0.004))
            if batch == self.fail_at:
                raise RuntimeError(f"batch {batch} failed")
            return batch
        finally:
            self.running -= 1

    async def last(self, batch: int) -> None:
        await self.work(batch)
        self.finished.append(batch)

    def stages(self, concurrency: int = 1) -> list[Stage]:
        return [
            Stage("first", self.work),
            Stage("middle", self.work, concurrency=concurrency),
            Stage("last", self.last),
        ]


async def feed(pipeline: Pipeline, batches: range) -> None:
    for batch in batches:
        await pipeline.reserve()
        pipeline.submit(batch)


@pytest.mark.parametrize("seed", range(5))
async def test_batches_leave_in_the_order_they_came_through_a_concurrent_stage(seed: int) -> None:
    recorder = Recorder(seed)
    pipeline = Pipeline(6, recorder.stages(concurrency=3))
    await feed(pipeline, range(60))
    await pipeline.close()
    assert recorder.finished == list(range(60))
    assert recorder.most_running > 1, "the stages never overlapped"


@pytest.mark.parametrize("depth", [1, 2, 4])
async def test_no_more_than_depth_batches_are_in_flight(depth: int) -> None:
    recorder = Recorder(seed=depth)
    pipeline = Pipeline(depth, recorder.stages(concurrency=2))
    seen: list[int] = []
    for batch in range(30):
        await pipeline.reserve()
        pipeline.submit(batch)
        seen.append(pipeline.in_flight)
    await pipeline.close()
    assert max(seen) == depth
    assert recorder.most_running <= depth
    assert pipeline.in_flight == 0


async def test_a_failure_abandons_later_batches_and_earlier_ones_finish() -> None:
    recorder = Recorder(seed=3, fail_at=7)
    pipeline = Pipeline(4, recorder.stages(concurrency=2))
    for batch in range(20):
        await pipeline.reserve()
        if pipeline.failed.is_set():
            pipeline.unreserve()
            break
        pipeline.submit(batch)
    with pytest.raises(RuntimeError, match="batch 7 failed"):
        await pipeline.close()
    assert recorder.finished == list(range(7))
    assert pipeline.in_flight == 0


async def test_drain_waits_for_every_submitted_batch() -> None:
    recorder = Recorder(seed=9)
    pipeline = Pipeline(3, recorder.stages())
    await feed(pipeline, range(3))
    await pipeline.drain()
    assert recorder.finished == [0, 1, 2]
    await feed(pipeline, range(3, 5))  # still open after a drain (a rebalance)
    await pipeline.close()
    assert recorder.finished == [0, 1, 2, 3, 4]


def test_a_stage_needs_room_for_a_batch() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        Stage("store", Recorder(seed=0).work, concurrency=0)
