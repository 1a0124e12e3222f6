"""The model directory's contract: file names and the metadata JSON the exporter writes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from model.exceptions import ArtifactError
from model.labels import SENTIMENTS, TOPICS
from model.text import NORMALIZATION

METADATA_FILE = "metadata.json"
TOKENIZER_FILE = "tokenizer.json"
LABELS_FILE = "labels.json"
CARD_FILE = "MODEL_CARD.md"
CPU_MODEL = "model.int8.onnx"
GPU_MODEL = "model.fp16.onnx"
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAMES = ("topic_logits", "sentiment_logits")


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """What the runtime must know to feed the ONNX model exactly as it was trained."""

    name: str
    version: str
    max_len: int
    pooling: str
    normalization: str
    cpu_model: str = CPU_MODEL
    gpu_model: str = GPU_MODEL

    @property
    def model_version(self) -> str:
        return f"{self.name}@{self.version}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"inputs": list(INPUT_NAMES), "outputs": list(OUTPUT_NAMES)}


def read_info(model_dir: Path) -> ArtifactInfo:
    """Read and check `metadata.json` and `labels.json` in `model_dir`."""
    path = model_dir / METADATA_FILE
    if not path.is_file():
        raise ArtifactError(
            f"{path} not found: set FINSENT_MODEL_DIR to a folder made by `finsent export` "
            "(or unset it to use the model shipped in the package)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        info = ArtifactInfo(
            name=str(raw["name"]),
            version=str(raw["version"]),
            max_len=int(raw["max_len"]),
            pooling=str(raw["pooling"]),
            normalization=str(raw["normalization"]),
            cpu_model=str(raw.get("cpu_model", CPU_MODEL)),
            gpu_model=str(raw.get("gpu_model", GPU_MODEL)),
        )
    except (ValueError, KeyError, TypeError) as e:
        raise ArtifactError(
            f"{path} is not valid model metadata ({e}); re-run `finsent export`"
        ) from e
    if info.normalization != NORMALIZATION:
        raise ArtifactError(
            f"{path}: the model was trained on text normalised by {info.normalization}, and this "
            f"finsent normalises by {NORMALIZATION}; use a model exported by this version "
            "(`finsent export`) or the finsent release the model came with"
        )
    _check_labels(model_dir / LABELS_FILE)
    return info


def write_labels(model_dir: Path) -> None:
    """Write the label names in output order, so other tools can read the artifact alone."""
    labels = {"topics": list(TOPICS), "sentiments": list(SENTIMENTS)}
    (model_dir / LABELS_FILE).write_text(json.dumps(labels, indent=2) + "\n", encoding="utf-8")


def _check_labels(path: Path) -> None:
    if not path.is_file():
        raise ArtifactError(f"{path} not found; re-run `finsent export`")
    labels = json.loads(path.read_text(encoding="utf-8"))
    if labels.get("topics") != list(TOPICS) or labels.get("sentiments") != list(SENTIMENTS):
        raise ArtifactError(
            f"{path} does not match this code's labels (model/labels.py): the artifact was made "
            "by another version; re-export it"
        )
