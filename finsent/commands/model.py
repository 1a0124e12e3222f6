"""`finsent train | evaluate | export | score`: the model pipeline and offline scoring."""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import IO

import typer

from model.exceptions import TrainExtraMissingError
from model.scorer import Document, Scorer
from model.settings import ModelSettings
from stream.reader import BadLine, InputFormat, ReadItem, items_in, open_input
from stream.scored import document_of, scored_fields

CHUNK = 512
# Headlines written for this project (not from any data set), used to check exports.
CHECK_TEXTS = (
    "Fed raises interest rates by half a point to fight inflation",
    "Apple shares slide 6% after weak iPhone sales forecast",
    "Gold climbs to a record as the dollar weakens",
    "Exxon to buy shale producer in $60 billion deal",
    "Tesla beats quarterly earnings estimates, stock jumps",
    "Treasury yields hit highest level since 2007",
    "Bank lays off 5,000 staff as profits fall",
    "Oil prices tumble as OPEC boosts output",
    "Analyst upgrades Nvidia to buy, raises target to $900",
    "Company names new chief executive effective next month",
    "Euro falls against the dollar after ECB comments",
    "Startup files for IPO on Nasdaq",
)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.command("export")(export)
    app.command("score")(score)


def _train_side(module: str, command: str) -> ModuleType:
    """Import a torch-using module, or say how to install what it needs."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise TrainExtraMissingError(
            f"`finsent {command}` needs the train extra ({e.name} is missing): "
            "pip install 'finsent[train]'"
        ) from e


def train(
    data: Path = typer.Option(
        ..., "--data", help="Folder with topic_/sentiment_ train/valid CSVs."
    ),
    out: Path = typer.Option(Path("var/checkpoint"), "--out", help="Checkpoint folder."),
    news: Path | None = typer.Option(
        None, "--news", help="FinEntity.json: train on its training part, validate on its dev set."
    ),
    news_repeat: int = typer.Option(
        4, "--news-repeat", help="Times the (small) news training part is repeated per epoch."
    ),
    base_model: Path | None = typer.Option(
        None,
        "--base-model",
        help="Transformers folder to fine-tune (default all-MiniLM-L6-v2; a teacher may be "
        "larger, e.g. all-mpnet-base-v2 with --frozen-layers 0).",
    ),
    epochs: int = typer.Option(2, help="Passes over both training sets."),
    lr: float = typer.Option(1e-4, help="Learning rate of the top encoder layer."),
    batch_size: int = typer.Option(32, "--batch-size"),
    max_len: int = typer.Option(64, "--max-len", help="Tokens per text (truncation)."),
    frozen_layers: int = typer.Option(3, "--frozen-layers", help="Lower layers kept frozen."),
    seed: int = typer.Option(13),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    stop_after: int | None = typer.Option(
        None, "--stop-after", help="End after this many epochs, keeping the full schedule."
    ),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Schedule length in steps."),
    init: Path | None = typer.Option(None, "--init", help="Start from this checkpoint's weights."),
    lr_scale: float = typer.Option(1.0, "--lr-scale", help="Multiply every learning rate."),
    warmup: float = typer.Option(0.06, "--warmup", help="Warm-up share of the schedule."),
    eval_each_epoch: bool = typer.Option(
        False, "--eval-each-epoch", help="Validate after every epoch and keep the best one."
    ),
    label_smoothing: float = typer.Option(0.1, "--label-smoothing"),
    class_weight_power: float = typer.Option(
        0.3, "--class-weight-power", help="Topic weights (max/count)**power; 0 for none."
    ),
    layer_decay: float = typer.Option(
        0.9, "--layer-decay", help="Learning-rate factor per encoder layer downwards."
    ),
    pooling: str = typer.Option("mean", help="mean or cls."),
    teacher: list[Path] = typer.Option(
        [], "--teacher", help="Checkpoint to distil from (repeat for an ensemble)."
    ),
    distill_weight: float = typer.Option(1.0, "--distill-weight"),
    distill_temperature: float = typer.Option(2.0, "--distill-temperature"),
) -> None:
    """Fine-tune all-MiniLM-L6-v2 with a topic head and a sentiment head (extra `train`)."""
    training = _train_side("model.training", "train")
    cfg = training.TrainConfig(
        data_dir=data,
        output_dir=out,
        news_file=news,
        news_repeat=news_repeat,
        **({"base_model": base_model} if base_model else {}),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        max_len=max_len,
        frozen_layers=frozen_layers,
        seed=seed,
        device=device,
        stop_after_epochs=stop_after,
        max_steps=max_steps,
        init_checkpoint=init,
        lr_scale=lr_scale,
        warmup_ratio=warmup,
        eval_every_epoch=eval_each_epoch,
        label_smoothing=label_smoothing,
        class_weight_power=class_weight_power,
        layer_decay=layer_decay,
        pooling=pooling,
        teachers=tuple(teacher),
        distill_weight=distill_weight,
        distill_temperature=distill_temperature,
    )
    report = training.train(cfg)
    typer.echo(json.dumps(report["history"][-1]))


def export(
    checkpoint: Path = typer.Option(Path("var/checkpoint"), "--checkpoint"),
    out: Path = typer.Option(..., "--out", help="Artifact folder (e.g. model/artifacts)."),
    version: str = typer.Option("1.0.0", help="Version recorded in the artifact metadata."),
    keep_fp32: Path | None = typer.Option(None, "--keep-fp32", help="Folder for the fp32 ONNX."),
) -> None:
    """Export a checkpoint to ONNX fp16 (GPU) and int8 (CPU), each checked against torch."""
    exporter = _train_side("model.export", "export")
    with tempfile.TemporaryDirectory(prefix="finsent-export-") as tmp:
        work = keep_fp32 or Path(tmp)
        report = exporter.export(checkpoint, out, CHECK_TEXTS, version, work)
    typer.echo(json.dumps(report.__dict__, indent=2))


def evaluate(
    data: Path = typer.Option(..., "--data", help="Folder with the validation CSVs."),
    news: Path | None = typer.Option(
        None, "--news", help="FinEntity.json: also report the news development set."
    ),
    onnx_file: Path | None = typer.Option(
        None, "--onnx", help="ONNX file instead of the artifact's."
    ),
    reference: Path | None = typer.Option(None, "--reference", help="fp32 ONNX to compare with."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the metrics here."),
    card: Path | None = typer.Option(None, "--card", help="Write the model card here."),
    speed: Path | None = typer.Option(None, "--speed", help="Markdown with measured speed."),
    training_report: Path | None = typer.Option(None, "--training", help="training.json."),
    experiments: Path | None = typer.Option(
        None, "--experiments", help="Markdown comparing training runs (bench/compare_runs.py)."
    ),
) -> None:
    """Accuracy, macro-F1, per-class precision/recall and confusion matrices on the tweet
    validation sets and (with --news) the news development set."""
    from model.card import CARD_TEMPLATE, CardInputs, file_sizes, render_card
    from model.evaluation import NEWS_TASK, evaluate_scorer, metrics_json, neutral_as_negative

    settings = ModelSettings()
    scorer = Scorer.from_settings(settings, onnx_file)
    metrics = evaluate_scorer(scorer, data, news)
    ref = None
    if reference:
        ref = evaluate_scorer(Scorer.from_settings(settings, reference), data, news)
    result = {"model": scorer.model_version, "metrics": metrics_json(metrics)}
    if ref:
        result["reference"] = metrics_json(ref)
    for task, m in metrics.items():
        typer.echo(f"{task}: accuracy {m.accuracy:.4f} macro-F1 {m.macro_f1:.4f} (n={m.n})")
        if task == NEWS_TASK:
            typer.echo(f"{task}: neutral called negative {neutral_as_negative(m)} times")
        if ref:
            typer.echo(f"{task} (reference): accuracy {ref[task].accuracy:.4f}")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2) + "\n")
    if card:
        template = CARD_TEMPLATE.read_text(encoding="utf-8")
        inputs = CardInputs(
            model_version=scorer.model_version,
            metrics=metrics,
            reference_metrics=ref,
            files=file_sizes(Path(settings.model_dir)),
            training=json.loads(training_report.read_text()) if training_report else None,
            speed_markdown=speed.read_text() if speed else None,
            experiments_markdown=experiments.read_text() if experiments else None,
        )
        card.write_text(render_card(inputs, template))


def score(
    path: str = typer.Argument(..., help="JSONL, CSV or text file; - reads standard input."),
    fmt: InputFormat = typer.Option(InputFormat.auto, "--format", help="auto, jsonl, csv, lines."),
) -> None:
    """Score news items offline; write one JSON object per item to standard output.

    Items are read and checked as `finsent produce` and the worker check them; a bad line is
    reported on stderr by number and the rest are scored (exit 1 when any line was bad)."""
    with open_input(path) as source:  # a missing file fails before the model loads
        scorer = Scorer.from_settings(ModelSettings())
        items = items_in(source, name=path, fmt=fmt, now=datetime.now(UTC))
        skipped = _score_stream(scorer, items, sys.stdout)
    if skipped:
        typer.echo(f"skipped {skipped} bad line(s)", err=True)
        raise typer.Exit(1)


def _score_stream(scorer: Scorer, items: Iterator[ReadItem | BadLine], out: IO[str]) -> int:
    skipped = done = 0
    progress = sys.stderr.isatty()
    while chunk := list(islice(items, CHUNK)):
        good = [i.item for i in chunk if isinstance(i, ReadItem)]
        for bad in (i for i in chunk if isinstance(i, BadLine)):
            typer.echo(f"line {bad.line}: {bad.reason}; skipped", err=True)
            skipped += 1
        predictions = scorer.score_documents([Document(i.headline, i.body) for i in good])
        for item, prediction in zip(good, predictions, strict=True):
            doc = document_of(item, prediction, scorer.model_version)
            out.write(json.dumps(scored_fields(doc), ensure_ascii=False) + "\n")
        done += len(good)
        if progress:
            typer.echo(f"\rscored {done}", err=True, nl=False)
    if progress:
        typer.echo("", err=True)
    return skipped
