"""One consumed batch turned into work: valid items (deduplicated) and rejections, pure logic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from model.scorer import Prediction
from monitor.storage.ingest import Rejection, ScoredDocument
from stream.schema import InvalidRecord, NewsItem, parse_news
from stream.scored import document_of

# The re-drive count `finsent dlq replay` puts on a record it sends back to `news.raw`.
REDRIVES_HEADER = "finsent-redrives"


@dataclass(frozen=True, slots=True)
class RawRecord:
    """The parts of a Kafka record the worker uses."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Accepted:
    item: NewsItem
    record: RawRecord


@dataclass(frozen=True, slots=True)
class Rejected:
    record: RawRecord
    error: InvalidRecord


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    accepted: list[Accepted]
    rejected: list[Rejected]
    duplicates: int


def record_time(record: RawRecord) -> datetime:
    return datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)


def prepare(records: Sequence[RawRecord]) -> PreparedBatch:
    """Validate every record; keep the first of each id within the batch."""
    accepted: dict[str, Accepted] = {}
    rejected: list[Rejected] = []
    for record in records:
        try:
            item = parse_news(record.value or b"", default_published_at=record_time(record))
        except InvalidRecord as error:
            rejected.append(Rejected(record, error))
            continue
        accepted.setdefault(item.id, Accepted(item, record))
    duplicates = len(records) - len(rejected) - len(accepted)
    return PreparedBatch(list(accepted.values()), rejected, duplicates)


def to_document(accepted: Accepted, prediction: Prediction, model: str) -> ScoredDocument:
    record = accepted.record
    return document_of(
        accepted.item, prediction, model, partition=record.partition, offset=record.offset
    )


def to_rejection(rejected: Rejected, received_at: datetime) -> Rejection:
    record = rejected.record
    return Rejection(
        received_at=received_at,
        topic=record.topic,
        kafka_partition=record.partition,
        kafka_offset=record.offset,
        reason=rejected.error.reason.value,
        detail=rejected.error.detail[:500],
        size_bytes=len(record.value or b""),
    )


def dlq_headers(rejected: Rejected) -> list[tuple[str, bytes]]:
    """The `news.dlq` record keeps the original bytes as its value; why and where go in headers."""
    record = rejected.record
    return [
        ("finsent-reason", rejected.error.reason.value.encode()),
        ("finsent-detail", rejected.error.detail[:500].encode()),
        ("finsent-source-topic", record.topic.encode()),
        ("finsent-source-partition", str(record.partition).encode()),
        ("finsent-source-offset", str(record.offset).encode()),
        # A record re-driven from the DLQ that fails again keeps its count (`finsent dlq replay`).
        *((k, v) for k, v in record.headers if k == REDRIVES_HEADER),
    ]
