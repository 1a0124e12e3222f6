"""`finsent produce`: read news items from JSONL or CSV (or generate them) and publish them."""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from stream.kafka import ensure_topics, open_producer
from stream.schema import InvalidRecord, item_from_mapping
from stream.settings import StreamSettings

log = logging.getLogger(__name__)

_TICKER_SPLIT = re.compile(r"[\s,;|]+")


@dataclass(frozen=True, slots=True)
class BadLine:
    """An input line that cannot be published, and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ProduceReport:
    sent: int
    skipped: list[BadLine]


def read_items(stream: TextIO, *, fmt: str) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """(line number, item or why not) for each record of a JSONL or CSV text stream."""
    if fmt == "csv":
        reader = csv.DictReader(stream)
        for row in reader:
            yield reader.line_num, _from_csv_row(row)
        return
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            yield number, BadLine(number, f"not JSON: {e.msg}")
            continue
        if not isinstance(value, dict):
            yield number, BadLine(number, f"expected a JSON object, got {type(value).__name__}")
            continue
        yield number, value


def _from_csv_row(row: dict[str, str | None]) -> dict[str, Any]:
    item: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
    if "tickers" in item:
        item["tickers"] = [t for t in _TICKER_SPLIT.split(item["tickers"]) if t]
    return item


def checked(
    items: Iterable[tuple[int, dict[str, Any] | BadLine]],
) -> Iterator[dict[str, Any] | BadLine]:
    """Validate items as the worker would, so a bad line is reported here, with its number."""
    now = datetime.now(UTC)
    for number, item in items:
        if isinstance(item, BadLine):
            yield item
            continue
        try:
            parsed = item_from_mapping(item, default_published_at=now)
        except InvalidRecord as e:
            yield BadLine(number, str(e))
            continue
        yield {**item, "id": parsed.id}


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
