"""Export parity on a tiny randomly initialised model (needs the train extra)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from model.export import FP32_TOLERANCE, export  # noqa: E402
from model.scorer import Scorer  # noqa: E402
from model.settings import ModelSettings  # noqa: E402
from model.training import TrainConfig, build_model, save_checkpoint  # noqa: E402
from tests.model.tiny import make_tiny_base  # noqa: E402

TEXTS = ["Fed lifts rates", "Apple stock slides after weak sales in China", "Gold up", ""]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("export")
    base = make_tiny_base(root / "base")
    cfg = TrainConfig(data_dir=root, output_dir=root / "ckpt", base_model=base)
    (root / "ckpt").mkdir()
    model = build_model(base, "mean", 0.1, pretrained=True).eval()
    save_checkpoint(model, cfg, tok_path=base / "tokenizer.json")
    report = export(root / "ckpt", root / "artifact", TEXTS, "0.0.1-test", root / "work")
    return root, report


def test_fp32_parity_and_files(exported: tuple[Path, object]) -> None:
    root, report = exported
    assert report.fp32_max_abs_diff <= FP32_TOLERANCE  # type: ignore[attr-defined]
    names = {p.name for p in (root / "artifact").iterdir()}
    assert {"model.int8.onnx", "model.fp16.onnx", "tokenizer.json", "labels.json"} <= names
    meta = json.loads((root / "artifact" / "metadata.json").read_text())
    assert meta["max_len"] == 64 and meta["inputs"] == ["input_ids", "attention_mask"]


def test_scorer_on_fp32_export_matches_torch(exported: tuple[Path, object]) -> None:
    import torch

    from model.text import normalize_text
    from model.training import load_checkpoint, load_tokenizer, pad_batch

    root, _ = exported
    model, _ = load_checkpoint(root / "ckpt")
    tok = load_tokenizer(root / "ckpt" / "tokenizer.json", 64)
    ids = [e.ids for e in tok.encode_batch([normalize_text(t) for t in TEXTS])]
    input_ids, mask = pad_batch(ids)
    with torch.no_grad():
        topic, sentiment = (torch.softmax(x, -1).numpy() for x in model(input_ids, mask))
    settings = ModelSettings(model_dir=root / "artifact", device="cpu", batch_size=2)
    scorer = Scorer.from_settings(settings, root / "work" / "model.fp32.onnx")
    topic_p, sent_p = scorer.probabilities(TEXTS)
    assert np.abs(topic_p - topic).max() < 1e-5
    assert np.abs(sent_p - sentiment).max() < 1e-5
