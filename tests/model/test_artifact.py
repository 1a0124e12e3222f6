"""The shipped artifact: clear headlines written for this test, probabilities, documents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model.artifact import CPU_MODEL, GPU_MODEL, METADATA_FILE
from model.labels import SENTIMENTS, TOPICS
from model.scorer import Document, Scorer, providers_for
from model.settings import ARTIFACT_DIR

# (headline, topic, sentiment): written for this project, not taken from any data set.
CLEAR = [
    (
        "Apple shares plunge 8% after the company slashes its revenue forecast",
        "Stock Movement",
        "negative",
    ),
    ("Tesla stock soars 12% to a record high", "Stock Movement", "positive"),
    # Reported results are Financials and the earnings calendar is Earnings: the taxonomy of the
    # training data (README, "What the topics mean"), whatever the words suggest.
    (
        "Microsoft beats quarterly earnings estimates as cloud revenue jumps",
        "Financials",
        "positive",
    ),
    ("Intel misses earnings expectations and posts a quarterly loss", "Financials", "negative"),
    ("Oracle will report fiscal second-quarter results on Thursday", "Earnings", "neutral"),
    (
        "Goldman Sachs upgrades Nvidia to buy and raises its price target",
        "Analyst Update",
        "positive",
    ),
    ("Morgan Stanley downgrades Boeing to underweight", "Analyst Update", "negative"),
    ("Oil prices tumble as OPEC boosts production", "Energy | Oil", "negative"),
    ("Coca-Cola raises its quarterly dividend by 5%", "Dividend", "positive"),
    ("The Federal Reserve holds interest rates steady", "Fed | Central Banks", "neutral"),
    ("Pfizer agrees to acquire a biotech company for $43 billion", "M&A | Investments", None),
    ("Disney names a new chief financial officer", "Personnel Change", "neutral"),
    ("SEC sues crypto exchange over unregistered securities", "Legal | Regulation", "negative"),
    ("Euro slides to a 20-year low against the dollar", "Currencies", "negative"),
    ("Gold prices rise as investors seek safety", "Gold | Metals | Materials", None),
    ("Food delivery startup files for an IPO on the Nasdaq", "IPO", None),
]


def test_artifact_files_fit_the_budget() -> None:
    sizes = {p.name: p.stat().st_size for p in ARTIFACT_DIR.iterdir() if p.is_file()}
    assert {CPU_MODEL, GPU_MODEL, METADATA_FILE, "tokenizer.json", "MODEL_CARD.md"} <= set(sizes)
    assert max(sizes.values()) < 60_000_000
    assert sum(sizes.values()) < 80_000_000
    meta = json.loads((ARTIFACT_DIR / METADATA_FILE).read_text())
    assert meta["outputs"] == ["topic_logits", "sentiment_logits"]


@pytest.mark.parametrize(("headline", "topic", "sentiment"), CLEAR)
def test_clear_headlines(scorer: Scorer, headline: str, topic: str, sentiment: str | None) -> None:
    (p,) = scorer.score_texts([headline])
    assert p.topic == topic
    assert p.topic_id == TOPICS.index(topic)
    if sentiment is not None:
        assert p.sentiment == sentiment


def test_probabilities_sum_to_one(scorer: Scorer) -> None:
    texts = [h for h, _, _ in CLEAR] + ["", "a" * 5000]
    topic_p, sent_p = scorer.probabilities(texts)
    assert topic_p.shape == (len(texts), len(TOPICS))
    assert sent_p.shape == (len(texts), len(SENTIMENTS))
    np.testing.assert_allclose(topic_p.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(sent_p.sum(1), 1.0, atol=1e-5)
    for row, p in enumerate(scorer.score_texts(texts)):
        assert p.score == pytest.approx(p.p_positive - p.p_negative)
        assert p.topic_confidence == pytest.approx(float(topic_p[row].max()))
        assert p.p_negative == pytest.approx(float(sent_p[row, 0]))


def test_order_and_batching_do_not_change_results(scorer: Scorer) -> None:
    texts = [h for h, _, _ in CLEAR]
    one = [scorer.score_texts([t])[0] for t in texts]
    together = scorer.score_texts(list(reversed(texts)))[::-1]
    for a, b in zip(together, one, strict=True):
        # int8 activations are quantised per batch: the batch moves scores a little.
        assert (a.topic, a.sentiment) == (b.topic, b.sentiment)
        assert a.score == pytest.approx(b.score, abs=0.1)


def test_documents_with_long_bodies(scorer: Scorer) -> None:
    body = "Revenue fell 30% and the company cut its outlook. " * 60
    docs = [
        Document("Retailer shares sink after profit warning", body),
        Document(None, body),
        Document("Tesla stock soars 12% to a record high", None),
    ]
    out = scorer.score_documents(docs)
    assert len(out) == 3
    assert out[0].sentiment == "negative" and out[1].sentiment == "negative"
    alone = scorer.score_texts(["Tesla stock soars 12% to a record high"])[0]
    assert (out[2].topic, out[2].sentiment) == (alone.topic, alone.sentiment)
    assert out[2].score == pytest.approx(alone.score, abs=0.1)
    with pytest.raises(ValueError, match="headline or a body"):
        scorer.score_documents([Document(None, "  ")])


def test_providers() -> None:
    cpu = ["CPUExecutionProvider"]
    assert providers_for("auto", cpu) == cpu
    assert providers_for("cpu", ["CUDAExecutionProvider", *cpu]) == cpu
    assert providers_for("auto", ["TensorrtExecutionProvider", "CUDAExecutionProvider", *cpu]) == [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        *cpu,
    ]
    from model.exceptions import ModelError

    with pytest.raises(ModelError, match="gpu"):
        providers_for("cuda", cpu)


def test_missing_model_dir_is_actionable(tmp_path: Path) -> None:
    from model.exceptions import ArtifactError
    from model.settings import ModelSettings

    with pytest.raises(ArtifactError, match="FINSENT_MODEL_DIR"):
        Scorer.from_settings(ModelSettings(model_dir=tmp_path))


def test_a_model_trained_on_other_normalisation_is_refused(tmp_path: Path) -> None:
    import shutil

    from model.artifact import LABELS_FILE, read_info
    from model.exceptions import ArtifactError

    meta = json.loads((ARTIFACT_DIR / METADATA_FILE).read_text())
    (tmp_path / METADATA_FILE).write_text(json.dumps(meta | {"normalization": "older/1"}))
    shutil.copyfile(ARTIFACT_DIR / LABELS_FILE, tmp_path / LABELS_FILE)
    with pytest.raises(ArtifactError, match="normalised by older/1"):
        read_info(tmp_path)


def test_scorer_path_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, model.scorer, finsent.commands.model; print('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"
