"""`finsent score`: JSONL, CSV and plain lines in, DESIGN.md JSONL out, bad lines skipped."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from finsent.commands import model as model_commands

FIELDS = [
    "id",
    "published_at",
    "source",
    "headline",
    "tickers",
    "topic",
    "topic_id",
    "topic_confidence",
    "sentiment",
    "p_negative",
    "p_neutral",
    "p_positive",
    "score",
    "model",
]


def app() -> typer.Typer:
    root = typer.Typer()
    root.callback()(lambda: None)
    model_commands.register(root)
    return root


def run(*args: str, stdin: str | None = None) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(app(), ["score", *args], input=stdin, env={"FINSENT_DEVICE": "cpu"})
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, rows, result.stderr


def test_jsonl_with_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    path.write_text(
        '{"headline": "Apple shares jump after record iPhone sales $aapl", "source": "wire",'
        ' "published_at": "2024-05-01T12:00:00Z", "tickers": ["MSFT"]}\n'
        "{broken\n"
        '{"id": "x-1", "body": "Oil prices fell sharply. Traders expect more supply."}\n'
    )
    code, rows, err = run(str(path))
    assert code == 1
    assert "line 2:" in err and "skipped" in err
    assert len(rows) == 2
    first, second = rows
    assert list(first) == FIELDS
    assert first["source"] == "wire" and first["published_at"] == "2024-05-01T12:00:00Z"
    assert first["tickers"] == ["MSFT", "AAPL"]
    assert len(str(first["id"])) == 32
    assert second["id"] == "x-1" and second["source"] == "unknown"
    assert abs(float(first["score"]) - (first["p_positive"] - first["p_negative"])) < 1e-5  # type: ignore[operator]
    assert str(first["model"]).startswith("finsent-minilm")


def test_csv_text_column(tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    path.write_text('text,label\n"Gold rises, silver follows",1\nFed holds rates steady,2\n')
    code, rows, err = run(str(path))
    assert code == 0, err
    assert [r["headline"] for r in rows] == ["Gold rises, silver follows", "Fed holds rates steady"]


def test_plain_lines_from_stdin() -> None:
    code, rows, _ = run("-", stdin="Tesla stock falls\n\nNetflix beats estimates\n")
    assert code == 0
    assert [r["headline"] for r in rows] == ["Tesla stock falls", "Netflix beats estimates"]
    ids = {r["id"] for r in rows}
    assert len(ids) == 2


def test_missing_file_is_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app(), ["score", str(tmp_path / "nope.jsonl")])
    assert result.exit_code != 0
    assert "cannot read" in str(result.exception)


def test_invalid_utf8_and_empty_items_are_reported_and_the_rest_scored(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    path.write_bytes(
        b'{"headline": "Contoso beats estimates"}\n'
        b'{"headline": "broken \xff byte"}\n'
        b'{"headline": "   "}\n'
        b"{broken\n"
        b'{"headline": "Fabrikam misses estimates"}\n'
    )
    code, rows, err = run(str(path))
    assert code == 1
    assert [r["headline"] for r in rows] == ["Contoso beats estimates", "Fabrikam misses estimates"]
    assert "line 2: not UTF-8" in err
    assert "line 3: empty_text" in err
    assert "line 4: not JSON" in err
    assert "skipped 3 bad line(s)" in err


def test_the_input_is_checked_before_the_model_loads(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app(),
        ["score", str(tmp_path / "nope.jsonl")],
        env={"FINSENT_MODEL_DIR": str(tmp_path / "no-model-here")},
    )
    assert result.exit_code != 0
    assert str(result.exception).startswith("cannot read ")
