"""Fine-tunes the shared MiniLM encoder with a topic head and a sentiment head (extra `train`).

torch and transformers are imported by the training modules only (this one and the model/ modules
it imports); nothing on the scoring path imports them.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from model.data import class_counts
from model.distillation import SoftTargets, distill_loss, ensemble_probabilities, teacher_targets
from model.frozen_layers import forward_batch, freeze_lower, lower_states
from model.multitask import (
    CHECKPOINT_WEIGHTS,
    MultiTaskModel,
    build_model,
    load_checkpoint,
    save_checkpoint,
)
from model.optimization import Schedule, schedule, task_loss, task_losses
from model.training_config import TrainConfig, default_base_model
from model.training_data import (
    Encoded,
    Splits,
    load_splits,
    load_tokenizer,
    pad_batch,
    train_batches,
)
from model.validation import validate

# The entry points, and the names other code imports from here since the stages moved out.
__all__ = [
    "MultiTaskModel",
    "SoftTargets",
    "TrainConfig",
    "build_model",
    "default_base_model",
    "distill_loss",
    "ensemble_probabilities",
    "load_checkpoint",
    "load_tokenizer",
    "pad_batch",
    "save_checkpoint",
    "train",
]

logger = logging.getLogger(__name__)

TRAINING_JSON = "training.json"


def pick_device(name: str) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class _Run:
    """What every step of a run needs; `step` and `best` advance as it goes."""

    cfg: TrainConfig
    device: torch.device
    model: MultiTaskModel
    splits: Splits
    cache: list[torch.Tensor] | None
    losses: tuple[nn.Module, nn.Module]
    soft: SoftTargets | None
    schedule: Schedule
    rng: random.Random
    step: int = 0
    best: float = -1.0


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train, keep the epoch with the best selection score (tweets and news), save it; return
    the report."""
    # The order of these stages is the order of the random draws: keep it.
    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    splits = load_splits(cfg)
    model = _prepare_model(cfg, device)
    cache = _frozen_cache(model, cfg.frozen_layers, splits.train, device)
    losses = task_losses(class_counts(splits.train_examples, "topic"), cfg, device)
    soft, ensemble = _soft_targets(cfg, splits, device)
    sched = schedule(model, cfg, len(splits.train.ids))
    rng = random.Random(cfg.seed)  # noqa: S311 - shuffling, not security
    cfg.output_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(cfg, device, model, splits, cache, losses, soft, sched, rng)
    history = _run_epochs(run)
    return _write_report(cfg, history, run.best, ensemble)


def _prepare_model(cfg: TrainConfig, device: torch.device) -> MultiTaskModel:
    """The pretrained model (or an earlier run's weights) on `device`, its frozen parts frozen."""
    model = build_model(cfg.base_model, cfg.pooling, cfg.dropout, pretrained=True).to(device)
    if cfg.init_checkpoint:
        # Continue from an earlier run's weights (a second, shorter stage of training).
        weights = torch.load(cfg.init_checkpoint / CHECKPOINT_WEIGHTS, map_location=device)
        model.load_state_dict(weights)
    if cfg.freeze_word_embeddings:
        # Half the parameters, a dense gradient and Adam state each step; the pretrained
        # vocabulary geometry also serves rare words better than 26k examples can retrain it.
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    if cfg.frozen_layers:
        freeze_lower(model, cfg.frozen_layers)
    return model


def _frozen_cache(
    model: MultiTaskModel, k: int, train_data: Encoded, device: torch.device
) -> list[torch.Tensor] | None:
    """The frozen layers' outputs for every training example; None when no layer is frozen."""
    cache = lower_states(model, train_data.ids, k, device) if k else None
    logger.info("cached the output of the %d frozen layers for %d examples", k, len(train_data.ids))
    return cache


def _soft_targets(
    cfg: TrainConfig, splits: Splits, device: torch.device
) -> tuple[SoftTargets | None, dict[str, float | int] | None]:
    """The teachers' soft targets and validation figures; (None, None) without teachers."""
    if not cfg.teachers:
        return None, None
    soft, figures = teacher_targets(cfg, splits, device)
    logger.info("teacher ensemble of %d on validation: %s", len(cfg.teachers), figures)
    return soft, figures


def _run_epochs(run: _Run) -> list[dict[str, Any]]:
    """Every epoch's record, up to the last one the config or the step budget allows."""
    history: list[dict[str, Any]] = []
    for epoch in range(1, run.cfg.epochs + 1):
        record, last = _epoch(run, epoch)
        logger.info("epoch %s", json.dumps(record))
        history.append(record)
        if last:
            break
    return history


def _epoch(run: _Run, epoch: int) -> tuple[dict[str, Any], bool]:
    """Train one epoch, then validate or save; its record, and whether it is the last one."""
    cfg = run.cfg
    run.model.train()
    started, running = time.monotonic(), 0.0
    batches = train_batches(run.splits.train, cfg.batch_size, run.rng)
    for batch in _progress(batches, f"epoch {epoch}/{cfg.epochs}"):
        running += _step(run, batch)
        if run.step >= run.schedule.total:
            break
    seconds = time.monotonic() - started
    record: dict[str, Any] = {
        "epoch": epoch,
        "steps": run.step,
        "train_loss": running / max(1, len(batches)),
        "seconds": round(seconds, 1),
    }
    # stop_after_epochs ends early on the full-length schedule (time-boxed runs).
    last = run.step >= run.schedule.total or epoch == cfg.epochs or epoch == cfg.stop_after_epochs
    _validate_or_save(run, record, last)
    return record, last


def _step(run: _Run, batch: list[int]) -> float:
    """One optimiser step on `batch`; its loss."""
    run.schedule.set_lr(run.step)
    logits = forward_batch(
        run.model, batch, run.splits.train, run.cache, run.cfg.frozen_layers, run.device
    )
    loss = task_loss(logits, batch, run.splits.train, run.losses, run.device)
    if run.soft is not None:
        loss = loss + run.cfg.distill_weight * distill_loss(logits, run.soft, batch)
    optimizer = run.schedule.optimizer
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), 1.0)
    optimizer.step()
    run.step += 1
    return float(loss.detach())


def _validate_or_save(run: _Run, record: dict[str, Any], last: bool) -> None:
    """Add the validation metrics to `record` and save the best epoch, or just save the latest."""
    cfg = run.cfg
    tok_path = cfg.base_model / "tokenizer.json"
    if not (cfg.eval_every_epoch or last):
        # Evaluation costs minutes on a small CPU; keep the latest weights meanwhile.
        save_checkpoint(run.model, cfg, tok_path=tok_path)
        return
    figures = validate(run.model, run.splits.valid, run.splits.news, run.device)
    record |= figures.record() | {"selection_score": figures.selection_score}
    if figures.selection_score > run.best:
        run.best = figures.selection_score
        record["best"] = True
        save_checkpoint(run.model, cfg, tok_path=tok_path)


def _write_report(
    cfg: TrainConfig,
    history: list[dict[str, Any]],
    best: float,
    ensemble: dict[str, float | int] | None,
) -> dict[str, Any]:
    """The run's report, also written to `training.json` in `output_dir`."""
    report = {"config": _jsonable(asdict(cfg)), "history": history, "best_selection_score": best}
    if ensemble:
        report["teacher_ensemble"] = ensemble
    (cfg.output_dir / TRAINING_JSON).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _progress(iterable: Sequence[list[int]], desc: str) -> Iterator[list[int]]:
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    yield from tqdm(iterable, desc=desc, mininterval=0.5 if tty else 60.0, file=sys.stderr)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        if isinstance(v, Path):
            return str(v)
        return [plain(x) for x in v] if isinstance(v, tuple) else v

    return {k: plain(v) for k, v in d.items()}
