"""Renders the model card (MODEL_CARD.md) from evaluation, export and benchmark figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.evaluation import TaskMetrics

CARD_TEMPLATE = Path(__file__).resolve().parent / "card_template.md"


@dataclass(frozen=True)
class CardInputs:
    """Everything the card reports; free-form sections come pre-rendered as markdown."""

    model_version: str
    metrics: Mapping[str, TaskMetrics]
    reference_metrics: Mapping[str, TaskMetrics] | None
    files: Mapping[str, int]
    training: Mapping[str, Any] | None
    speed_markdown: str | None
    experiments_markdown: str | None = None


def render_card(inputs: CardInputs, template: str) -> str:
    """Fill `{metrics}`, `{files}`, `{training}`, `{experiments}`, `{speed}`, `{version}`."""
    return template.format(
        version=inputs.model_version,
        metrics=_metrics_section(inputs.metrics, inputs.reference_metrics),
        files=_files_table(inputs.files),
        training=_training_section(inputs.training),
        speed=inputs.speed_markdown or "Not measured.",
        experiments=inputs.experiments_markdown or "No comparison was given.",
    )


def file_sizes(model_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(model_dir.iterdir()) if p.is_file()}


def _files_table(files: Mapping[str, int]) -> str:
    rows = [f"| `{name}` | {size / 1e6:.2f} MB |" for name, size in files.items()]
    total = sum(files.values()) / 1e6
    return "\n".join(["| file | size |", "| --- | --- |", *rows, f"| total | {total:.2f} MB |"])


def _metrics_section(
    metrics: Mapping[str, TaskMetrics], reference: Mapping[str, TaskMetrics] | None
) -> str:
    out = ["| task | n | accuracy (int8) | macro-F1 (int8) | accuracy (fp32) | macro-F1 (fp32) |"]
    out.append("| --- | --- | --- | --- | --- | --- |")
    for task, m in metrics.items():
        ref = reference.get(task) if reference else None
        ref_cells = f"{ref.accuracy:.4f} | {ref.macro_f1:.4f}" if ref else "- | -"
        out.append(f"| {task} | {m.n} | {m.accuracy:.4f} | {m.macro_f1:.4f} | {ref_cells} |")
    for task, m in metrics.items():
        out += ["", f"### {task}: per class (int8)", "", _class_table(m), ""]
        out += [f"Confusion matrix ({task}, rows = true, columns = predicted, int8):", ""]
        out.append(_confusion(m, [c.name for c in m.classes]))
    return "\n".join(out)


def _class_table(m: TaskMetrics) -> str:
    rows = [
        "| id | class | precision | recall | F1 | support |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, c in enumerate(m.classes):
        name = c.name.replace("|", "/")  # a bare | would split the table cell
        rows.append(
            f"| {i} | {name} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} |"
        )
    return "\n".join(rows)


def _confusion(m: TaskMetrics, names: Sequence[str]) -> str:
    head = "| true \\ pred | " + " | ".join(str(i) for i in range(len(names))) + " |"
    rows = [head, "|" + " --- |" * (len(names) + 1)]
    for i, row in enumerate(m.confusion):
        rows.append(f"| {i} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(rows)


def _training_section(training: Mapping[str, Any] | None) -> str:
    if not training:
        return "No training report was given."
    cfg = training.get("config", {})
    keep = {k: v for k, v in cfg.items() if k not in ("data_dir", "output_dir", "news_file")}
    # Local folders say nothing to a reader: the teachers by run name, the base by model name.
    keep["base_model"] = base_model_name(str(cfg.get("base_model", "")))
    keep["teachers"] = [Path(t).name for t in cfg.get("teachers") or []]
    lines = ["| setting | value |", "| --- | --- |"]
    lines += [f"| `{k}` | `{v}` |" for k, v in keep.items()]
    lines += ["", "| epoch | steps | train loss | seconds | topic acc | sentiment acc | news acc |"]
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")
    for h in training.get("history", []):
        figures = [
            figure(h.get(k)) for k in ("topic_accuracy", "sentiment_accuracy", "news_accuracy")
        ]
        lines.append(
            f"| {h['epoch']} | {h['steps']} | {h['train_loss']:.4f} | {h['seconds']} | "
            + " | ".join(figures)
            + " |"
        )
    return "\n".join(lines)


def base_model_name(path: str) -> str:
    """A base model's name from its folder: the folder's own name, or its parent's where the
    folder is a generic `model` (as in the packaged MiniLM wheel)."""
    folder = Path(path)
    return folder.parent.name if folder.name == "model" else folder.name


def figure(value: float | None) -> str:
    """An accuracy or F1 as the card and the run comparison print it; '-' where absent."""
    return "-" if value is None else f"{value:.4f}"
