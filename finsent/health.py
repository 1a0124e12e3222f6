"""Liveness and readiness of a long-running process: an event-loop heartbeat, and probes of
PostgreSQL and Kafka on a timer, judged when /healthz and /readyz are asked."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from sqlalchemy import Engine

from finsent.logs import redact
from monitor.storage.db import check_connection
from stream.kafka import open_producer
from stream.settings import StreamSettings

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[None]]
"""Reaches one dependency; returns when it answered, raises when it did not."""

BEAT_EVERY_S = 1.0
PROBE_EVERY_S = 5.0
PROBE_TIMEOUT_S = 5.0
# Past this, a silent heartbeat means a blocked event loop, a silent probe a stuck prober.
LIVE_WITHIN_S = 30.0
READY_WITHIN_S = 3 * (PROBE_EVERY_S + PROBE_TIMEOUT_S)


@dataclass(frozen=True, slots=True)
class Verdict:
    """An answer to /healthz or /readyz: ok or not, and one line per check saying why."""

    ok: bool
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Answer:
    at: float
    error: str | None


class Health:
    """What the loop and the probes last reported; read from the HTTP server's threads."""

    def __init__(
        self, dependencies: tuple[str, ...], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._dependencies = dependencies
        self._clock = clock
        self._lock = threading.Lock()
        self._beat: float | None = None
        self._answers: dict[str, _Answer] = {}

    def beat(self) -> None:
        with self._lock:
            self._beat = self._clock()

    def answered(self, dependency: str, error: str | None = None) -> None:
        """Record a probe's outcome: `error` None when the dependency answered."""
        with self._lock:
            self._answers[dependency] = _Answer(self._clock(), error)

    def liveness(self) -> Verdict:
        """Live while the event loop turned within `LIVE_WITHIN_S`."""
        with self._lock:
            beat, now = self._beat, self._clock()
        if beat is None:
            return Verdict(False, ("event loop: not started",))
        age = now - beat
        ok = age <= LIVE_WITHIN_S
        state = "turned" if ok else "stalled, last turned"
        return Verdict(ok, (f"event loop: {state} {age:.1f}s ago",))

    def readiness(self) -> Verdict:
        """Ready while every dependency answered its latest probe, within `READY_WITHIN_S`."""
        with self._lock:
            answers, now = dict(self._answers), self._clock()
        judged = [_judge(name, answers.get(name), now) for name in self._dependencies]
        return Verdict(all(ok for ok, _ in judged), tuple(line for _, line in judged))


def _judge(name: str, answer: _Answer | None, now: float) -> tuple[bool, str]:
    if answer is None:
        return False, f"{name}: not checked yet"
    age = now - answer.at
    if answer.error is not None:
        return False, f"{name}: unreachable ({answer.error}), checked {age:.1f}s ago"
    if age > READY_WITHIN_S:
        return False, f"{name}: not checked for {age:.1f}s"
    return True, f"{name}: ok, answered {age:.1f}s ago"


def postgres_probe(engine: Engine) -> Probe:
    """`select 1` through the process's own engine, in a thread."""

    async def probe() -> None:
        await asyncio.to_thread(check_connection, engine)

    return probe


def kafka_probe(settings: StreamSettings) -> Probe:
    """A producer bootstraps (connect, metadata, API versions) and closes again; through
    `open_producer`, so with the cluster's TLS and SASL settings."""

    async def probe() -> None:
        # Each of the three requests well inside the probe's timeout, so a slow broker fails
        # the probe here, with the producer closed, rather than by cancellation.
        per_request_ms = int(PROBE_TIMEOUT_S * 1000 / 4)
        async with open_producer(settings, request_timeout_ms=per_request_ms):
            pass

    return probe


@asynccontextmanager
async def watching(health: Health, probes: Mapping[str, Probe]) -> AsyncIterator[Health]:
    """Beat and probe on the running event loop for as long as the block runs."""
    task = asyncio.create_task(_watch(health, probes), name="finsent-health")
    try:
        yield health
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def _watch(health: Health, probes: Mapping[str, Probe]) -> None:
    async with asyncio.TaskGroup() as group:
        group.create_task(_beat(health))
        for name, probe in probes.items():
            group.create_task(_probe_forever(health, name, probe))


async def _beat(health: Health) -> None:
    # A separate task, so a slow probe or a long batch never reads as a dead process; only an
    # event loop blocked by synchronous work stops it.
    while True:
        health.beat()
        await asyncio.sleep(BEAT_EVERY_S)


async def _probe_forever(health: Health, name: str, probe: Probe) -> None:
    while True:
        health.answered(name, await _outcome(name, probe))
        await asyncio.sleep(PROBE_EVERY_S)


async def _outcome(name: str, probe: Probe) -> str | None:
    """None when the dependency answered in time, else why not (one line)."""
    try:
        await asyncio.wait_for(probe(), PROBE_TIMEOUT_S)
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT_S:.0f}s"
    except Exception as e:  # any failure to reach it means not ready; the message says which
        log.debug("%s probe failed", name, exc_info=True)
        return redact(str(e).splitlines()[0]) if str(e) else type(e).__name__
    return None
