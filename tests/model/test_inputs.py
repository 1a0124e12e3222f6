"""Reading JSONL, CSV and plain lines, with bad lines reported by number."""

from __future__ import annotations

import pytest

from model.inputs import BadLine, InputFormat, InputItem, detect_format, read_items


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
    out = list(read_items(lines, InputFormat.jsonl))
    good = [o for o in out if isinstance(o, InputItem)]
    bad = [o for o in out if isinstance(o, BadLine)]
    assert [b.line for b in bad] == [2, 4, 7, 8]
    assert good[0] == InputItem(
        line=1, headline="Fed hikes", id="a1", source="wire", tickers=("SPY",)
    )
    assert good[1].headline == "Plain text field"
    assert (good[2].headline, good[2].body) == (None, "Only a body here.")
    assert good[3].tickers == ("AAPL", "MSFT")


def test_csv_rows_and_line_numbers() -> None:
    lines = [
        "id,headline,source\n",
        "1,Oil jumps,wire\n",
        '2,"Multi\n',
        'line headline",wire\n',
        "3,,wire\n",
        "4,Too,many,fields\n",
    ]
    out = list(read_items(lines, InputFormat.csv))
    assert isinstance(out[0], InputItem) and out[0].line == 2 and out[0].id == "1"
    assert isinstance(out[1], InputItem) and out[1].headline == "Multi\nline headline"
    assert out[2] == BadLine(5, "no text: needs a non-empty headline, text or body")
    assert isinstance(out[3], BadLine) and out[3].line == 6


def test_csv_without_text_column() -> None:
    out = list(read_items(["a,b\n", "1,2\n"], InputFormat.csv))
    assert out == [BadLine(1, "CSV header has no text, headline or body column")]


def test_plain_lines_skip_blanks() -> None:
    out = list(read_items(["First\n", "   \n", "Second\n"], InputFormat.lines))
    assert [(o.line, o.headline) for o in out if isinstance(o, InputItem)] == [
        (1, "First"),
        (3, "Second"),
    ]
