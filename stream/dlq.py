"""`news.dlq` read back: each record as a `DeadLetter`, which ones a replay sends back to
`news.raw`, and how a person sees them safely. Pure functions; the Kafka side is stream/redrive.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from stream.batch import REDRIVES_HEADER
from stream.exceptions import DeadLetterNotFound

# A replay marks each dead letter it sent back with a record of its own in `news.dlq`: an empty
# value and this header naming the dead letter's PARTITION:OFFSET. The topic is append-only, so
# without the mark every later replay would send the same records again.
REDRIVEN_HEADER = "finsent-redriven"
_DETAIL_CHARS = 500


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where a record sits in `news.dlq`; written PARTITION:OFFSET."""

    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.partition}:{self.offset}"


def parse_position(text: str) -> tuple[int | None, int]:
    """`17` -> (None, 17); `1:17` -> (1, 17); anything else raises ValueError."""
    partition, sep, offset = text.strip().rpartition(":")
    if not offset.isdigit() or (sep and not partition.isdigit()):
        raise ValueError(f"expected OFFSET or PARTITION:OFFSET, e.g. 17 or 1:17, got {text!r}")
    return (int(partition) if sep else None), int(offset)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected record: its original bytes and the worker's headers (text made printable)."""

    position: Position
    dead_at: datetime
    key: bytes | None
    value: bytes
    reason: str
    detail: str
    source_topic: str
    source_partition: int | None
    source_offset: int | None
    redrives: int
    truncated_from: int | None

    @property
    def source(self) -> str:
        where = f"{self.source_partition}:{self.source_offset}"
        return f"{self.source_topic} {where}" if self.source_offset is not None else "unknown"


@dataclass(frozen=True, slots=True)
class Marker:
    """A replay's note that the dead letter at `redriven` went back to `news.raw`."""

    redriven: Position


def from_record(
    partition: int,
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes | None,
    headers: Iterable[tuple[str, bytes]],
) -> DeadLetter | Marker | None:
    """A `news.dlq` record as the worker or a replay wrote it; missing headers get defaults."""
    found = dict(headers)
    if REDRIVEN_HEADER in found:
        try:
            marked, offset = parse_position(found[REDRIVEN_HEADER].decode("ascii"))
        except ValueError:
            return None  # not a mark we wrote; nothing to replay either (its value is empty)
        return Marker(Position(marked or 0, offset))
    return DeadLetter(
        position=Position(partition, offset),
        dead_at=datetime.fromtimestamp(timestamp_ms / 1000, UTC),
        key=key,
        value=value or b"",
        reason=_text(found.get("finsent-reason")) or "unknown",
        detail=_text(found.get("finsent-detail")),
        source_topic=_text(found.get("finsent-source-topic")),
        source_partition=_count(found.get("finsent-source-partition")),
        source_offset=_count(found.get("finsent-source-offset")),
        redrives=_count(found.get(REDRIVES_HEADER)) or 0,
        truncated_from=_count(found.get("finsent-truncated-from")),
    )


def _text(raw: bytes | None) -> str:
    return printable(raw.decode("utf-8", errors="backslashreplace"), _DETAIL_CHARS) if raw else ""


def _count(raw: bytes | None) -> int | None:
    """A non-negative integer header; anything else counts as absent."""
    text = (raw or b"").decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else None


class State(StrEnum):
    """What a replay would do with a dead letter."""

    pending = "pending"  # it would be sent back to news.raw
    redriven = "redriven"  # a replay sent it back already
    exhausted = "exhausted"  # sent back FINSENT_DLQ_MAX_REDRIVES times, failed each time
    truncated = "truncated"  # only its first bytes were kept: the original is gone


@dataclass(frozen=True, slots=True)
class DeadLetters:
    """`news.dlq` as read once, up to its end: dead letters in order, the re-driven positions."""

    partitions: int
    letters: list[DeadLetter]
    redriven: frozenset[Position]

    def state(self, letter: DeadLetter, max_redrives: int) -> State:
        if letter.position in self.redriven:
            return State.redriven
        if letter.truncated_from is not None:
            return State.truncated
        if letter.redrives >= max_redrives:
            return State.exhausted
        return State.pending

    def find(self, partition: int | None, offset: int, *, topic: str) -> DeadLetter:
        """The dead letter at `partition:offset`; the partition may be left out if there is one."""
        if partition is None:
            if self.partitions > 1:
                raise DeadLetterNotFound(
                    f"{topic} has {self.partitions} partitions: give the position as "
                    f"PARTITION:OFFSET, e.g. 0:{offset} (see `finsent dlq list`)"
                )
            partition = 0
        wanted = Position(partition, offset)
        for letter in self.letters:
            if letter.position == wanted:
                return letter
        raise DeadLetterNotFound(f"no dead letter at {topic} {wanted} (see `finsent dlq list`)")


def collect(partitions: int, records: Iterable[DeadLetter | Marker | None]) -> DeadLetters:
    letters: list[DeadLetter] = []
    redriven: set[Position] = set()
    for record in records:
        if isinstance(record, Marker):
            redriven.add(record.redriven)
        elif record is not None:
            letters.append(record)
    letters.sort(key=lambda d: (d.dead_at, d.position))
    return DeadLetters(partitions, letters, frozenset(redriven))


@dataclass(frozen=True, slots=True)
class Selection:
    """Which dead letters a command looks at: by reason, and dead-lettered at or after `since`."""

    reason: str | None = None
    since: datetime | None = None

    def __call__(self, letter: DeadLetter) -> bool:
        if self.reason is not None and letter.reason != self.reason:
            return False
        return self.since is None or letter.dead_at >= self.since


def newest(dead: DeadLetters, selection: Selection, limit: int) -> list[DeadLetter]:
    """Up to `limit` selected dead letters, newest first (what `finsent dlq list` shows)."""
    return [d for d in reversed(dead.letters) if selection(d)][:limit]


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """What a replay sends (oldest first) and what it skips, and why."""

    send: list[DeadLetter]
    exhausted: list[DeadLetter]
    truncated: list[DeadLetter]
    redriven_before: int
    over_limit: int


def plan_replay(
    dead: DeadLetters, selection: Selection, *, max_redrives: int, limit: int | None = None
) -> ReplayPlan:
    """Choose the selected dead letters to send back; none is sent twice or past the maximum."""
    by_state: dict[State, list[DeadLetter]] = {state: [] for state in State}
    for letter in dead.letters:
        if selection(letter):
            by_state[dead.state(letter, max_redrives)].append(letter)
    pending = by_state[State.pending]
    send = pending if limit is None else pending[:limit]
    return ReplayPlan(
        send=send,
        exhausted=by_state[State.exhausted],
        truncated=by_state[State.truncated],
        redriven_before=len(by_state[State.redriven]),
        over_limit=len(pending) - len(send),
    )


def redrive_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """Headers of the record sent back to `news.raw`: one more re-drive than the dead letter's."""
    return [(REDRIVES_HEADER, str(letter.redrives + 1).encode())]


def marker_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    return [(REDRIVEN_HEADER, str(letter.position).encode())]


def printable(text: str, limit: int) -> str:
    """`text` cut at `limit` characters, every control or invisible character escaped (`\\x1b`),
    so a dead letter shown in a terminal cannot move the cursor, recolour or reorder it."""
    shown = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[:limit]
    )
    return shown + "…" if len(text) > limit else shown


def preview(value: bytes, limit: int) -> str:
    """The first `limit` characters of a value, invalid UTF-8 as `\\xNN`, safe to print."""
    # limit * 4 + 4 bytes decode to more than `limit` characters, so a cut value shows its "…".
    head = value[: limit * 4 + 4]
    return printable(head.decode("utf-8", errors="backslashreplace"), limit)
