"""A one-step training run on a few synthetic examples (needs the train extra)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from model.training import TrainConfig, load_checkpoint, train  # noqa: E402
from tests.model.tiny import (  # noqa: E402
    make_tiny_base,
    write_tiny_data,
    write_tiny_news,
)


def _tiny_run(tmp_path: Path, name: str, base_model: Path, **kw: Any) -> TrainConfig:
    """A short CPU run on the tiny data: one epoch of `max_steps` steps (1 unless given)."""
    settings: dict[str, Any] = {"epochs": 1, "batch_size": 4, "max_steps": 1, "device": "cpu"}
    return TrainConfig(
        data_dir=write_tiny_data(tmp_path / "data"),
        output_dir=tmp_path / name,
        base_model=base_model,
        **(settings | kw),
    )


@pytest.mark.parametrize("frozen_layers", [0, 1])
def test_one_step_smoke(tmp_path: Path, frozen_layers: int) -> None:
    base = make_tiny_base(tmp_path / "base")
    cfg = TrainConfig(
        data_dir=write_tiny_data(tmp_path / "data"),
        output_dir=tmp_path / "out",
        base_model=base,
        epochs=1,
        batch_size=4,
        max_steps=1,
        frozen_layers=frozen_layers,
        device="cpu",
    )
    report = train(cfg)
    (record,) = report["history"]
    assert record["steps"] == 1
    assert 0.0 <= record["topic_accuracy"] <= 1.0
    assert json.loads((tmp_path / "out" / "training.json").read_text())["history"]
    model, meta = load_checkpoint(tmp_path / "out")
    assert meta["max_len"] == cfg.max_len
    assert not model.training


def test_split_forward_matches_full_forward(tmp_path: Path) -> None:
    import torch

    from model.training import build_model

    model = build_model(make_tiny_base(tmp_path / "base"), "mean", 0.1, pretrained=True).eval()
    ids = torch.randint(1000, 2000, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    with torch.no_grad():
        full = model(ids, mask)
        split = model.upper(model.lower(ids, mask, 1), mask, 1)
    for a, b in zip(full, split, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_distillation_from_a_teacher_checkpoint(tmp_path: Path) -> None:
    import numpy as np
    import torch

    from model.training import (
        SoftTargets,
        distill_loss,
        ensemble_probabilities,
        load_tokenizer,
        pad_batch,
    )

    base = make_tiny_base(tmp_path / "base")
    train(_tiny_run(tmp_path, "teacher", base, max_steps=2))
    texts = ["Shares slide on weak outlook", "Bank raises its dividend"]
    topic, sentiment = ensemble_probabilities(
        [tmp_path / "teacher"] * 2, texts, 2.0, torch.device("cpu")
    )
    tok = load_tokenizer(tmp_path / "teacher" / "tokenizer.json", 64)
    ids = [e.ids for e in tok.encode_batch(texts)]
    assert np.allclose(topic.sum(1), 1.0) and np.allclose(sentiment.sum(1), 1.0)
    soft = SoftTargets(torch.from_numpy(topic), torch.from_numpy(sentiment), 2.0)

    # The loss vanishes where the student already matches the teacher, and only there.
    teacher, _ = load_checkpoint(tmp_path / "teacher")
    with torch.no_grad():
        logits = teacher(*pad_batch(ids))
    assert float(distill_loss(logits, soft, [0, 1])) < 1e-5
    flat = SoftTargets(torch.full((2, 20), 1 / 20), torch.full((2, 3), 1 / 3), 2.0)
    assert float(distill_loss(logits, flat, [0, 1])) > 1e-3

    report = train(
        _tiny_run(tmp_path, "student", base, max_steps=2, teachers=(tmp_path / "teacher",))
    )
    assert report["history"][0]["steps"] == 2
    assert 0.0 <= report["teacher_ensemble"]["topic_accuracy"] <= 1.0


def test_news_part_trains_and_counts_in_selection(tmp_path: Path) -> None:
    """With a news file, its dev set is validated each epoch and moves the selection score."""
    cfg = _tiny_run(
        tmp_path,
        "out",
        make_tiny_base(tmp_path / "base"),
        news_file=write_tiny_news(tmp_path / "news.json"),
        news_repeat=2,
    )
    (record,) = train(cfg)["history"]
    tweets = (record["topic_accuracy"] + record["sentiment_accuracy"]) / 2
    assert record["selection_score"] == pytest.approx((tweets + record["news_accuracy"]) / 2)
    assert record["news_neutral_as_negative"] >= 0


def test_a_teacher_of_another_architecture_teaches_the_student(tmp_path: Path) -> None:
    """An MPNet teacher (the 2.0 recipe's family) distils into the BERT-shaped student."""
    mpnet = make_tiny_base(tmp_path / "mpnet", family="mpnet")
    train(_tiny_run(tmp_path, "t", mpnet, frozen_layers=0))
    report = train(
        _tiny_run(tmp_path, "s", make_tiny_base(tmp_path / "base"), teachers=(tmp_path / "t",))
    )
    assert 0.0 <= report["teacher_ensemble"]["sentiment_accuracy"] <= 1.0
    model, _ = load_checkpoint(tmp_path / "s")
    assert type(model.encoder).__name__ == "BertModel"
