"""`finsent produce`: publish news items (read by `stream.reader`, or generated) to `news.raw`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from stream.kafka import ensure_topics, open_producer
from stream.reader import BadLine
from stream.settings import StreamSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProduceReport:
    sent: int
    skipped: list[BadLine]


async def publish(
    settings: StreamSettings,
    items: Iterable[dict[str, Any] | BadLine],
    *,
    rate: float,
    on_sent: Callable[[int], None] = lambda _: None,
) -> ProduceReport:
    """Publish items to `news.raw`, keyed by id, at most `rate` per second (0: unlimited)."""
    await ensure_topics(settings, [settings.topic_raw])
    skipped: list[BadLine] = []
    sent = 0
    started = time.monotonic()
    async with open_producer(settings, linger_ms=10, max_request_size=2 * 1024 * 1024) as producer:
        pending: list[asyncio.Future[Any]] = []
        for item in items:
            if isinstance(item, BadLine):
                log.error("line %d skipped: %s", item.line, item.reason)
                skipped.append(item)
                continue
            if rate > 0:
                ahead = started + sent / rate - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
            value = json.dumps(item, ensure_ascii=False).encode()
            pending.append(await producer.send(settings.topic_raw, value, key=item["id"].encode()))
            sent += 1
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending.clear()
                on_sent(sent)
        await asyncio.gather(*pending)
        on_sent(sent)
    return ProduceReport(sent, skipped)
