"""Dead letters read back and re-driven: the pure choices here; the round trip through a real
worker, broker and PostgreSQL in tests/stream/test_dlq_replay.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stream.batch import RawRecord, Rejected, dlq_headers
from stream.dlq import (
    DeadLetter,
    Marker,
    Position,
    Selection,
    State,
    collect,
    from_record,
    marker_headers,
    newest,
    parse_position,
    plan_replay,
    preview,
    printable,
    redrive_headers,
)
from stream.exceptions import DeadLetterNotFound
from stream.schema import InvalidRecord, RejectReason

T0 = 1_780_000_000_000  # ms


def dead_letter(
    offset: int,
    reason: RejectReason = RejectReason.invalid_json,
    *,
    partition: int = 0,
    raw_headers: tuple[tuple[str, bytes], ...] = (),
    value: bytes = b"{not json",
    extra: tuple[tuple[str, bytes], ...] = (),
) -> DeadLetter:
    """What the worker writes to news.dlq for a record of news.raw, read back."""
    raw = RawRecord("news.raw", 1, 100 + offset, T0, b"k", value, raw_headers)
    headers = [*dlq_headers(Rejected(raw, InvalidRecord(reason, "why"))), *extra]
    letter = from_record(partition, offset, T0 + offset * 1000, raw.key, value, headers)
    assert isinstance(letter, DeadLetter)
    return letter


def test_the_worker_headers_read_back() -> None:
    letter = dead_letter(7, RejectReason.empty_text)
    assert letter.position == Position(0, 7)
    assert (letter.reason, letter.detail) == ("empty_text", "why")
    assert letter.source == "news.raw 1:107"
    assert (letter.key, letter.value) == (b"k", b"{not json")
    assert letter.redrives == 0
    assert letter.truncated_from is None
    assert letter.dead_at == datetime.fromtimestamp((T0 + 7000) / 1000, UTC)


def test_the_worker_carries_the_redrive_count_and_a_replay_adds_one() -> None:
    again = dead_letter(3, raw_headers=(("finsent-redrives", b"2"), ("other", b"x")))
    assert again.redrives == 2
    assert redrive_headers(again) == [("finsent-redrives", b"3")]
    assert redrive_headers(dead_letter(4)) == [("finsent-redrives", b"1")]


def test_a_record_from_an_older_producer_has_defaults() -> None:
    letter = from_record(0, 5, T0, None, b"{}", [])
    assert isinstance(letter, DeadLetter)
    assert (letter.reason, letter.source, letter.redrives) == ("unknown", "unknown", 0)
    garbled = from_record(0, 6, T0, None, b"{}", [("finsent-redrives", b"-4")])
    assert isinstance(garbled, DeadLetter)
    assert garbled.redrives == 0


def test_marks_read_back_and_stray_ones_are_ignored() -> None:
    letter = dead_letter(9, partition=1)
    assert from_record(1, 10, T0, b"1:9", b"", marker_headers(letter)) == Marker(Position(1, 9))
    assert from_record(1, 11, T0, None, b"", [("finsent-redriven", b"nonsense")]) is None


def test_states_and_the_replay_plan() -> None:
    pending = [dead_letter(0), dead_letter(1, RejectReason.empty_text), dead_letter(2)]
    exhausted = dead_letter(3, raw_headers=(("finsent-redrives", b"3"),))
    truncated = dead_letter(4, extra=(("finsent-truncated-from", b"2000000"),))
    redriven = dead_letter(5)
    dead = collect(
        1, [Marker(redriven.position), redriven, truncated, exhausted, *reversed(pending)]
    )

    assert [dead.state(d, 3) for d in dead.letters] == [
        *[State.pending] * 3,
        State.exhausted,
        State.truncated,
        State.redriven,
    ]
    assert dead.state(exhausted, 4) is State.pending

    plan = plan_replay(dead, Selection(), max_redrives=3)
    assert plan.send == pending  # oldest first
    assert (plan.exhausted, plan.truncated) == ([exhausted], [truncated])
    assert (plan.redriven_before, plan.over_limit) == (1, 0)

    limited = plan_replay(dead, Selection(reason="invalid_json"), max_redrives=3, limit=1)
    assert limited.send == [pending[0]]
    assert limited.over_limit == 1

    since = plan_replay(dead, Selection(since=pending[1].dead_at), max_redrives=3)
    assert since.send == pending[1:]


def test_newest_first_with_a_limit() -> None:
    letters = [dead_letter(i) for i in range(5)]
    dead = collect(1, letters)
    assert newest(dead, Selection(), 2) == [letters[4], letters[3]]
    assert newest(dead, Selection(reason="too_large"), 2) == []


def test_positions_parse_and_find() -> None:
    assert parse_position("17") == (None, 17)
    assert parse_position(" 1:17 ") == (1, 17)
    for bad in ("", "x", "1:", ":3", "-1", "1:2:3", "a:3"):
        with pytest.raises(ValueError, match="PARTITION:OFFSET"):
            parse_position(bad)

    one = collect(1, [dead_letter(3)])
    assert one.find(None, 3, topic="news.dlq").position == Position(0, 3)
    with pytest.raises(DeadLetterNotFound, match=r"no dead letter at news.dlq 0:4"):
        one.find(None, 4, topic="news.dlq")
    two = collect(2, [dead_letter(3, partition=1)])
    assert two.find(1, 3, topic="news.dlq").position == Position(1, 3)
    with pytest.raises(DeadLetterNotFound, match="2 partitions: give the position as PARTITION"):
        two.find(None, 3, topic="news.dlq")


def test_values_and_headers_print_without_control_characters() -> None:
    hostile = "ok \x1b[2J\x07\r\n\u202egnp.exe\x00 end"
    shown = printable(hostile, 100)
    assert shown == "ok \\x1b[2J\\x07\\r\\n\\u202egnp.exe\\x00 end"
    assert all(c.isprintable() for c in shown)
    assert printable("abcdef", 3) == "abc…"

    assert preview(b'{"h": "caf\xe9"}', 100) == '{"h": "caf\\xe9"}'
    assert preview("é".encode() * 50, 10) == "é" * 10 + "…"
    assert preview(b"\xff" * 50, 10) == "\\xff" * 2 + "\\x…"
    assert preview(b"x" * 10, 10) == "x" * 10

    letter = dead_letter(1, extra=(("finsent-detail", b"bad \x1b]0;title\x07"),))
    assert letter.detail == "bad \\x1b]0;title\\x07"
