"""The runtime scorer: onnxruntime + tokenizers + numpy only (no torch on this import path)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer

from model.artifact import INPUT_NAMES, OUTPUT_NAMES, TOKENIZER_FILE, ArtifactInfo, read_info
from model.chunking import chunk_text
from model.exceptions import ArtifactError, ModelError
from model.labels import NEGATIVE, NEUTRAL, POSITIVE, SENTIMENTS, TOPICS
from model.settings import ModelSettings
from model.text import normalize_text

logger = logging.getLogger(__name__)

Floats = npt.NDArray[np.float32]
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
# A document's headline weighs as much as all its body chunks together: headlines state the news.
HEADLINE_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class Prediction:
    """Topic and sentiment of one text; `score` = p_positive - p_negative, in [-1, 1]."""

    topic: str
    topic_id: int
    topic_confidence: float
    sentiment: str
    p_negative: float
    p_neutral: float
    p_positive: float
    score: float


@dataclass(frozen=True, slots=True)
class Document:
    """A news item to score: a headline, a body, or both (a long body is chunked)."""

    headline: str | None
    body: str | None = None


def providers_for(device: str, available: Sequence[str]) -> list[str]:
    """onnxruntime providers for `device`: auto takes TensorRT/CUDA when installed, else CPU."""
    gpu = [p for p in GPU_PROVIDERS if p in available]
    if device == "cuda" and not gpu:
        raise ModelError(
            "FINSENT_DEVICE=cuda but onnxruntime has no CUDA provider: install the `gpu` extra "
            "(onnxruntime-gpu) or set FINSENT_DEVICE=cpu"
        )
    if device == "cpu" or not gpu:
        return ["CPUExecutionProvider"]
    return [*gpu, "CPUExecutionProvider"]


def _softmax(logits: Floats) -> Floats:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    probs: Floats = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return probs


def _prediction(topic_p: Floats, sent_p: Floats) -> Prediction:
    tid = int(topic_p.argmax())
    neg, neu, pos = float(sent_p[NEGATIVE]), float(sent_p[NEUTRAL]), float(sent_p[POSITIVE])
    return Prediction(
        topic=TOPICS[tid],
        topic_id=tid,
        topic_confidence=float(topic_p[tid]),
        sentiment=SENTIMENTS[int(sent_p.argmax())],
        p_negative=neg,
        p_neutral=neu,
        p_positive=pos,
        score=pos - neg,
    )


class Scorer:
    """Scores texts and documents with the exported model.

    Safe to call from several threads: after construction the session and the tokenizer are
    only read, and onnxruntime's `run` is thread-safe.
    """

    def __init__(
        self,
        session: ort.InferenceSession,
        tokenizer: Tokenizer,
        info: ArtifactInfo,
        settings: ModelSettings,
    ) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._info = info
        self._batch_size = settings.batch_size
        self._max_len = settings.max_length or info.max_len
        self._max_chunks = settings.max_chunks
        self._on_gpu = session.get_providers()[0] != "CPUExecutionProvider"
        self.model_version: str = info.model_version

    @classmethod
    def from_settings(cls, settings: ModelSettings, onnx_file: Path | None = None) -> Scorer:
        """Load the artifact in `settings.model_dir` on the device `settings.device` asks for.

        `onnx_file` replaces the artifact's own model file (to evaluate an fp32 export, say).
        """
        model_dir = Path(settings.model_dir)
        info = read_info(model_dir)
        providers = providers_for(settings.device, ort.get_available_providers())
        on_gpu = providers[0] != "CPUExecutionProvider"
        path = onnx_file or model_dir / (info.gpu_model if on_gpu else info.cpu_model)
        if not path.is_file():
            raise ArtifactError(f"{path} not found; re-run `finsent export` into {model_dir}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.threads or (os.cpu_count() or 1)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads spin by default, taking the cores the worker's database, broker
        # and validation threads need between batches (bench/bench_worker.py (a)).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as e:  # onnxruntime raises its own untyped errors
            raise ArtifactError(f"cannot load {path}: {e}") from e
        tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=settings.max_length or info.max_len)
        logger.info("loaded %s from %s on %s", info.model_version, path, providers[0])
        return cls(session, tokenizer, info, settings)

    @property
    def providers(self) -> list[str]:
        return list(self._session.get_providers())

    def score_texts(self, texts: Sequence[str]) -> list[Prediction]:
        """One prediction per text, in input order."""
        topic_p, sent_p = self.probabilities(texts)
        return [_prediction(topic_p[i], sent_p[i]) for i in range(len(texts))]

    def score_documents(self, docs: Sequence[Document]) -> list[Prediction]:
        """One prediction per document; body chunks are averaged, then mixed with the headline."""
        units: list[str] = []
        owners: list[tuple[int, float]] = []
        for n, doc in enumerate(docs):
            for text, weight in self._units(doc):
                units.append(text)
                owners.append((n, weight))
        topic_p, sent_p = self.probabilities(units)
        topic_acc = np.zeros((len(docs), len(TOPICS)), dtype=np.float32)
        sent_acc = np.zeros((len(docs), len(SENTIMENTS)), dtype=np.float32)
        for row, (n, weight) in enumerate(owners):
            topic_acc[n] += weight * topic_p[row]
            sent_acc[n] += weight * sent_p[row]
        return [_prediction(topic_acc[n], sent_acc[n]) for n in range(len(docs))]

    def _units(self, doc: Document) -> list[tuple[str, float]]:
        headline = (doc.headline or "").strip()
        body = (doc.body or "").strip()
        if not headline and not body:
            raise ValueError("a document needs a headline or a body")
        chunks = self._chunks(body) if body else []
        if not chunks:
            return [(headline, 1.0)]
        body_weight = (1.0 - HEADLINE_WEIGHT) if headline else 1.0
        units = [(c, body_weight / len(chunks)) for c in chunks]
        return [(headline, HEADLINE_WEIGHT), *units] if headline else units

    def _chunks(self, body: str) -> list[str]:
        text = normalize_text(body)
        budget = self._max_len - 2  # [CLS] and [SEP]

        def count(s: str) -> int:
            return len(self._tokenizer.encode(s, add_special_tokens=False).ids)

        return chunk_text(text, count, budget, self._max_chunks)

    def probabilities(self, texts: Sequence[str]) -> tuple[Floats, Floats]:
        """Topic and sentiment probabilities, one row per text, in input order."""
        topic_p = np.zeros((len(texts), len(TOPICS)), dtype=np.float32)
        sent_p = np.zeros((len(texts), len(SENTIMENTS)), dtype=np.float32)
        if not texts:
            return topic_p, sent_p
        encodings = self._tokenizer.encode_batch([normalize_text(t) for t in texts])
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        # Length-sorted batches: each is padded only to its own longest text.
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                seq = encodings[i].ids
                ids[r, : len(seq)] = seq
                mask[r, : len(seq)] = 1
            topic_logits, sent_logits = self._run(ids, mask)
            topic_p[rows] = _softmax(topic_logits)
            sent_p[rows] = _softmax(sent_logits)
        return topic_p, sent_p

    def _run(
        self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]
    ) -> tuple[Floats, Floats]:
        feeds = dict(zip(INPUT_NAMES, (ids, mask), strict=True))
        if not self._on_gpu:
            topic, sent = self._session.run(list(OUTPUT_NAMES), feeds)
            return np.asarray(topic, dtype=np.float32), np.asarray(sent, dtype=np.float32)
        # IO binding: one host-to-device copy per input, outputs stay on the device until read.
        binding = self._session.io_binding()
        for name, value in feeds.items():
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, "cuda", 0))
        for name in OUTPUT_NAMES:
            binding.bind_output(name, "cuda")
        self._session.run_with_iobinding(binding)
        topic, sent = binding.copy_outputs_to_cpu()
        return np.asarray(topic, dtype=np.float32), np.asarray(sent, dtype=np.float32)
