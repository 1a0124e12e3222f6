"""Reads news items for offline scoring from JSONL, CSV or plain text lines, reporting bad lines."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class InputFormat(StrEnum):
    auto = "auto"
    jsonl = "jsonl"
    csv = "csv"
    lines = "lines"


@dataclass(frozen=True, slots=True)
class InputItem:
    """One item to score, with the optional fields the output carries through."""

    line: int
    headline: str | None
    body: str | None = None
    id: str | None = None
    source: str = "unknown"
    published_at: str | None = None
    url: str | None = None
    tickers: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be read, with why."""

    line: int
    reason: str


_OPTIONAL_STRINGS = ("id", "source", "published_at", "url")


def detect_format(name: str, first_line: str) -> InputFormat:
    """Pick the format from the file extension, else from the first non-empty line."""
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return InputFormat.jsonl
    if lower.endswith(".csv"):
        return InputFormat.csv
    stripped = first_line.strip()
    if stripped.startswith("{"):
        return InputFormat.jsonl
    header = {c.strip().lower() for c in next(csv.reader([stripped]), [])}
    if header & {"text", "headline"} and "," in stripped:
        return InputFormat.csv
    return InputFormat.lines


def read_items(lines: Iterable[str], fmt: InputFormat) -> Iterator[InputItem | BadLine]:
    """Items of an already-detected format, in order; bad lines come out as `BadLine`."""
    if fmt is InputFormat.jsonl:
        return _read_jsonl(lines)
    if fmt is InputFormat.csv:
        return _read_csv(lines)
    return _read_lines(lines)


def _read_lines(lines: Iterable[str]) -> Iterator[InputItem | BadLine]:
    for n, raw in enumerate(lines, start=1):
        text = raw.strip()
        if text:
            yield InputItem(line=n, headline=text)


def _read_jsonl(lines: Iterable[str]) -> Iterator[InputItem | BadLine]:
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as e:
            yield BadLine(n, f"not JSON ({e.msg})")
            continue
        if not isinstance(value, dict):
            yield BadLine(n, f"expected a JSON object, got {type(value).__name__}")
            continue
        yield _item(n, value)


def _read_csv(lines: Iterable[str]) -> Iterator[InputItem | BadLine]:
    reader = csv.DictReader(iter(lines))
    columns = {c.strip().lower() for c in reader.fieldnames or ()}
    if not columns & {"text", "headline", "body"}:
        yield BadLine(1, "CSV header has no text, headline or body column")
        return
    start = reader.line_num
    for row in reader:
        clean = {(k or "").strip().lower(): v for k, v in row.items() if isinstance(v, str)}
        if None in row:
            yield BadLine(start + 1, "more fields than the header has")
        else:
            yield _item(start + 1, {k: v for k, v in clean.items() if v != ""})
        start = reader.line_num


def _item(n: int, value: dict[str, Any]) -> InputItem | BadLine:
    headline = value.get("headline", value.get("text"))
    body = value.get("body")
    for name, v in (("headline", headline), ("body", body)):
        if v is not None and not isinstance(v, str):
            return BadLine(n, f"field {name!r} must be a string")
    headline = headline.strip() if headline else None
    body = body.strip() if body else None
    if not headline and not body:
        return BadLine(n, "no text: needs a non-empty headline, text or body")
    extra: dict[str, str] = {}
    for name in _OPTIONAL_STRINGS:
        v = value.get(name)
        if v is not None and not isinstance(v, str):
            return BadLine(n, f"field {name!r} must be a string")
        if v:
            extra[name] = v
    tickers = value.get("tickers", [])
    if isinstance(tickers, str):
        tickers = [t for t in tickers.replace(";", ",").split(",") if t.strip()]
    if not isinstance(tickers, list) or not all(isinstance(t, str) for t in tickers):
        return BadLine(n, "field 'tickers' must be a list of strings")
    return InputItem(
        line=n,
        headline=headline,
        body=body,
        tickers=tuple(t.strip().lstrip("$").upper() for t in tickers),
        **extra,
    )
