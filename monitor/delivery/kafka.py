"""The Kafka sender: alert events onto the alerts topic, keyed by alert id, with the webhook id."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from monitor.delivery.outbox import Delivery, Outcome, OutcomeKind
from monitor.delivery.payload import render


class KafkaSender:
    """Publishes alert events to the alerts topic, keyed by alert id, with the webhook id."""

    def __init__(self, producer: AIOKafkaProducer, *, timeout_s: float) -> None:
        self._producer = producer
        self._timeout_s = timeout_s

    async def __call__(self, delivery: Delivery) -> Outcome:
        topic = delivery.endpoint.split(":", 1)[1]
        sending = self._producer.send_and_wait(
            topic,
            value=render(delivery.payload).encode(),
            key=str(delivery.alert_id).encode(),
            headers=[("webhook-id", delivery.webhook_id.encode())],
        )
        try:
            await asyncio.wait_for(sending, self._timeout_s)
        except TimeoutError:
            return Outcome(OutcomeKind.retry, error=f"Kafka: timed out after {self._timeout_s:g}s")
        except KafkaError as e:
            return Outcome(OutcomeKind.retry, error=f"Kafka: {type(e).__name__}: {e}")
        return Outcome(OutcomeKind.delivered)
