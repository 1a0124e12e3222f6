"""Reading JSONL, CSV and plain lines, each record checked as the worker checks it, with bad lines
reported by number."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from stream.reader import BadLine, InputFormat, ReadItem, detect_format, items_in, read_items

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _read(lines: list[str], fmt: InputFormat) -> list[ReadItem | BadLine]:
    return list(read_items(enumerate(lines, start=1), fmt, now=NOW))


@pytest.mark.parametrize(
    ("name", "first", "fmt"),
    [
        ("news.jsonl", "", InputFormat.jsonl),
        ("news.csv", "", InputFormat.csv),
        ("-", '{"headline": "x"}', InputFormat.jsonl),
        ("-", "id,headline,source", InputFormat.csv),
        ("-", "text,label", InputFormat.csv),
        ("-", "Fed holds rates, markets calm", InputFormat.lines),
        ("news.txt", "Gold rises", InputFormat.lines),
    ],
)
def test_detect_format(name: str, first: str, fmt: InputFormat) -> None:
    assert detect_format(name, first) is fmt


def test_jsonl_fields_and_bad_lines() -> None:
    lines = [
        '{"headline": "Fed hikes", "source": "wire", "tickers": ["$spy"], "id": "a1"}\n',
        "not json\n",
        "\n",
        "[1, 2]\n",
        '{"text": "Plain text field"}\n',
        '{"body": "Only a body here."}\n',
        '{"headline": ""}\n',
        '{"headline": 5}\n',
        '{"headline": "ok", "tickers": "AAPL, msft"}\n',
    ]
    out = _read(lines, InputFormat.jsonl)
    good = [o.item for o in out if isinstance(o, ReadItem)]
    bad = [o for o in out if isinstance(o, BadLine)]
    assert [b.line for b in bad] == [2, 4, 7, 8]
    first = good[0]
    assert (first.headline, first.id, first.source, first.tickers) == (
        "Fed hikes",
        "a1",
        "wire",
        ("SPY",),
    )
    assert good[1].headline == "Plain text field"
    assert (good[2].headline, good[2].body) == (None, "Only a body here.")
    assert good[3].tickers == ("AAPL", "MSFT")
    assert all(item.published_at == NOW for item in good)


def test_csv_rows_and_line_numbers() -> None:
    lines = [
        "id,headline,source\n",
        "1,Oil jumps,wire\n",
        '2,"Multi\n',
        'line headline",wire\n',
        "3,,wire\n",
        "4,Too,many,fields\n",
    ]
    out = _read(lines, InputFormat.csv)
    assert isinstance(out[0], ReadItem) and out[0].line == 2 and out[0].item.id == "1"
    assert isinstance(out[1], ReadItem) and out[1].item.headline == "Multi\nline headline"
    assert isinstance(out[2], BadLine) and out[2].line == 5
    assert out[2].reason.startswith("missing_text")
    assert isinstance(out[3], BadLine) and out[3].line == 6


def test_csv_without_text_column() -> None:
    out = _read(["a,b\n", "1,2\n"], InputFormat.csv)
    assert out == [BadLine(1, "CSV header has no text, headline or body column")]


def test_plain_lines_skip_blanks() -> None:
    out = _read(["First\n", "   \n", "Second\n"], InputFormat.lines)
    assert [(o.line, o.item.headline) for o in out if isinstance(o, ReadItem)] == [
        (1, "First"),
        (3, "Second"),
    ]


def test_invalid_utf8_is_one_bad_line_and_the_rest_is_read() -> None:
    source = io.BytesIO(b'{"headline": "Contoso up"}\n{"headline": "bad \xff byte"}\n\n{"x": 1}\n')
    out = list(items_in(source, name="-", fmt=InputFormat.auto, now=NOW))
    assert isinstance(out[0], ReadItem) and out[0].item.headline == "Contoso up"
    assert out[1] == BadLine(2, "not UTF-8 (byte 18: b'\\xff')")
    assert isinstance(out[2], BadLine) and out[2].line == 4 and "missing_text" in out[2].reason
