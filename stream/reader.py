"""The one reader of news-item files (JSONL, CSV or plain lines) for `finsent produce` and
`finsent score`: each record is validated as the worker validates it, and a line that cannot be
used comes out as a `BadLine` with its number, so the rest goes on."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from stream.exceptions import InputUnreadable
from stream.schema import InvalidRecord, NewsItem, item_from_mapping, split_tickers


class InputFormat(StrEnum):
    auto = "auto"
    jsonl = "jsonl"
    csv = "csv"
    lines = "lines"


@dataclass(frozen=True, slots=True)
class BadLine:
    """An input line (or CSV record starting there) that cannot be used, and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ReadItem:
    """A good record: the `news.raw` object to publish (its id filled in) and the item it is."""

    line: int
    fields: dict[str, Any]
    item: NewsItem


TEXT_COLUMNS = frozenset({"text", "headline", "body"})


def detect_format(name: str, first_line: str) -> InputFormat:
    """Pick the format from the file extension, else from the first line."""
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return InputFormat.jsonl
    if lower.endswith(".csv"):
        return InputFormat.csv
    stripped = first_line.strip()
    if stripped.startswith("{"):
        return InputFormat.jsonl
    header = {c.strip().lower() for c in next(csv.reader([stripped]), [])}
    if header & TEXT_COLUMNS and "," in stripped:
        return InputFormat.csv
    return InputFormat.lines


def decoded(lines: Iterable[bytes]) -> Iterator[tuple[int, str] | BadLine]:
    """Numbered text lines; a line that is not UTF-8 is a `BadLine`, not the end of the file."""
    for number, raw in enumerate(lines, start=1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield BadLine(number, f"not UTF-8 (byte {e.start}: {raw[e.start : e.start + 1]!r})")


def open_input(path: str) -> BinaryIO:
    """The file at `path` (`-`: standard input) for reading, or `InputUnreadable` saying why."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return Path(path).open("rb")
    except OSError as e:
        raise InputUnreadable(f"cannot read {path}: {e.strerror or e}") from e


def items_in(
    source: BinaryIO, *, name: str, fmt: InputFormat, now: datetime
) -> Iterator[ReadItem | BadLine]:
    """Every record of an opened input, its format detected from `name` and the first line
    when `fmt` is auto; items without `published_at` are stamped `now`."""
    lines = decoded(source)
    first = next(lines, None)
    if first is None:
        return
    if fmt is InputFormat.auto:
        fmt = detect_format(name, "" if isinstance(first, BadLine) else first[1])
    yield from read_items(chain([first], lines), fmt, now=now)


def read_items(
    lines: Iterable[tuple[int, str] | BadLine], fmt: InputFormat, *, now: datetime
) -> Iterator[ReadItem | BadLine]:
    """Records of a known format, validated."""
    reader = {InputFormat.jsonl: _jsonl, InputFormat.csv: _csv}.get(fmt, _plain)
    for entry in reader(lines):
        yield entry if isinstance(entry, BadLine) else validated(*entry, now=now)


def validated(number: int, fields: dict[str, Any], *, now: datetime) -> ReadItem | BadLine:
    """One record checked as the worker checks `news.raw` values."""
    try:
        item = item_from_mapping(fields, default_published_at=now)
    except InvalidRecord as e:
        return BadLine(number, str(e))
    return ReadItem(number, {**fields, "id": item.id}, item)


Record = tuple[int, dict[str, Any]] | BadLine


def _plain(lines: Iterable[tuple[int, str] | BadLine]) -> Iterator[Record]:
    for entry in lines:
        if isinstance(entry, BadLine) or entry[1].strip():
            yield entry if isinstance(entry, BadLine) else (entry[0], {"headline": entry[1]})


def _jsonl(lines: Iterable[tuple[int, str] | BadLine]) -> Iterator[Record]:
    for entry in lines:
        if isinstance(entry, BadLine):
            yield entry
            continue
        number, text = entry
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            yield BadLine(number, f"not JSON: {e.msg}")
            continue
        if not isinstance(value, dict):
            yield BadLine(number, f"expected a JSON object, got {type(value).__name__}")
            continue
        yield number, _as_news(value)


def _csv(lines: Iterable[tuple[int, str] | BadLine]) -> Iterator[Record]:
    bad: list[BadLine] = []

    def text_lines() -> Iterator[str]:
        for entry in lines:
            if isinstance(entry, BadLine):
                bad.append(entry)
            else:
                yield entry[1]

    reader = csv.DictReader(text_lines())
    if not {c.strip().lower() for c in reader.fieldnames or ()} & TEXT_COLUMNS:
        yield from bad
        yield BadLine(1, "CSV header has no text, headline or body column")
        return
    start = reader.line_num + 1
    for row in reader:
        yield from bad
        bad.clear()
        if None in row:
            yield BadLine(start, "more fields than the header has")
        else:
            yield start, _as_news({(k or "").strip().lower(): v for k, v in row.items() if v})
        start = reader.line_num + 1
    yield from bad


def _as_news(value: dict[str, Any]) -> dict[str, Any]:
    """A record in `news.raw` form: `text` is the headline, a `tickers` string is split."""
    fields = dict(value)
    if "headline" not in fields and "text" in fields:
        fields["headline"] = fields.pop("text")
    if isinstance(fields.get("tickers"), str):
        fields["tickers"] = split_tickers(fields["tickers"])
    return fields
