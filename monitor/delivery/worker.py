"""The delivery loop: claim what is due, send each through the sender for its endpoint's scheme,
record the outcomes."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from monitor.delivery.outbox import (
    ERROR_CHARS,
    Delivery,
    Outcome,
    OutcomeKind,
    RetryPolicy,
    claim_due,
    record,
)
from monitor.storage.records import mask_endpoint

log = logging.getLogger(__name__)


class Sender(Protocol):
    async def __call__(self, delivery: Delivery) -> Outcome: ...


class DeliveryWorker:
    """Sends what is due through the sender registered for each endpoint's scheme."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        senders: Mapping[str, Sender],
        policy: RetryPolicy,
        *,
        batch: int = 50,
        rng: random.Random | None = None,
        on_outcome: Callable[[Delivery, Outcome], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._senders = senders
        self._policy = policy
        self._batch = batch
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._on_outcome = on_outcome

    async def deliver_due(self) -> int:
        """One pass: claim, send concurrently, record; returns how many were attempted."""
        claimed = await asyncio.to_thread(self._claim)
        outcomes = await asyncio.gather(*(self._send(d) for d in claimed))
        results = list(zip(claimed, outcomes, strict=True))
        await asyncio.to_thread(self._record, results)
        if self._on_outcome is not None:  # once recorded: the metrics count what was stored
            for delivery, outcome in results:
                self._on_outcome(delivery, outcome)
        return len(claimed)

    def _claim(self) -> list[Delivery]:
        with self._sessions.begin() as session:
            return claim_due(
                session=session,
                now=datetime.now(UTC),
                lease=self._policy.lease,
                limit=self._batch,
            )

    async def _send(self, delivery: Delivery) -> Outcome:
        sender = self._senders.get(delivery.endpoint.split(":", 1)[0])
        if sender is None:
            return Outcome(OutcomeKind.retry, error="no sender for this endpoint in this process")
        try:
            return await sender(delivery)
        except Exception as e:  # a sender bug must not lose the delivery
            log.exception("sender for %s failed", mask_endpoint(delivery.endpoint))
            return Outcome(OutcomeKind.retry, error=f"{type(e).__name__}: {e}"[:ERROR_CHARS])

    def _record(self, results: list[tuple[Delivery, Outcome]]) -> None:
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            for delivery, outcome in results:
                record(
                    session=session,
                    delivery=delivery,
                    outcome=outcome,
                    now=now,
                    policy=self._policy,
                    rng=self._rng,
                )
