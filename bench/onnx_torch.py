"""The shipped ONNX model's weights as a PyTorch module, for a GPU without onnxruntime-gpu.

The exporter writes an onnxruntime-optimised graph: EmbedLayerNormalization, fused Attention with
packed Q|K|V, SkipLayerNormalization, BiasGelu and two Gemm heads. `torch_model` walks that graph
layer by layer, maps every weight to the parameter of a transformers `BertModel` it was exported
from, and wraps it in `model.multitask.MultiTaskModel` (the same pooling and heads as training).
Needs torch, transformers, onnx and numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from transformers import BertConfig, BertModel

from model.multitask import MultiTaskModel


class GraphLayoutError(ValueError):
    """The ONNX graph is not the fused BERT layout `torch_model` knows how to read."""


@dataclass(frozen=True)
class _Graph:
    weights: dict[str, np.ndarray]
    producer: dict[str, onnx.NodeProto]
    consumers: dict[str, list[onnx.NodeProto]]

    @classmethod
    def load(cls, path: Path) -> _Graph:
        proto = onnx.load(str(path))
        weights = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
        producer: dict[str, onnx.NodeProto] = {}
        consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in proto.graph.node:
            for name in node.output:
                producer[name] = node
            for name in node.input:
                consumers.setdefault(name, []).append(node)
        return cls(weights, producer, consumers)

    def only(self, op: str) -> onnx.NodeProto:
        nodes = [n for ns in self.consumers.values() for n in ns if n.op_type == op]
        unique = {n.name: n for n in nodes}
        if len(unique) != 1:
            raise GraphLayoutError(f"expected one {op} node, found {len(unique)}")
        return next(iter(unique.values()))

    def next_op(self, output: str, op: str) -> onnx.NodeProto | None:
        found = [n for n in self.consumers.get(output, []) if n.op_type == op]
        return found[0] if found else None

    def follow(self, output: str, op: str) -> onnx.NodeProto:
        node = self.next_op(output, op)
        if node is None:
            raise GraphLayoutError(f"no {op} node reads {output}")
        return node

    def tensor(self, name: str) -> torch.Tensor:
        return torch.from_numpy(self.weights[name].astype(np.float32))


def _attribute(node: onnx.NodeProto, name: str) -> float | int:
    for a in node.attribute:
        if a.name == name:
            value = onnx.helper.get_attribute_value(a)
            if isinstance(value, int | float):
                return value
    raise GraphLayoutError(f"{node.op_type} node {node.name} has no attribute {name}")


def _linear(weight_in_out: torch.Tensor, bias: torch.Tensor) -> dict[str, torch.Tensor]:
    """An ONNX MatMul weight is [in, out]; torch's Linear keeps [out, in]."""
    return {"weight": weight_in_out.T.contiguous(), "bias": bias}


def _layer(graph: _Graph, hidden: str) -> tuple[dict[str, torch.Tensor], str, int, float] | None:
    """One encoder layer read from the Attention node that takes `hidden`; None after the last."""
    attention = graph.next_op(hidden, "Attention")
    if attention is None:
        return None
    qkv, qkv_bias = graph.tensor(attention.input[1]), graph.tensor(attention.input[2])
    size = qkv.shape[0]
    params: dict[str, torch.Tensor] = {}
    for i, part in enumerate(("query", "key", "value")):
        cut = slice(i * size, (i + 1) * size)
        params |= _prefixed(f"attention.self.{part}", _linear(qkv[:, cut], qkv_bias[cut]))
    out = graph.follow(attention.output[0], "MatMul")
    norm1 = graph.follow(out.output[0], "SkipLayerNormalization")
    inter = graph.follow(norm1.output[0], "MatMul")
    gelu = graph.follow(inter.output[0], "BiasGelu")
    down = graph.follow(gelu.output[0], "MatMul")
    norm2 = graph.follow(down.output[0], "SkipLayerNormalization")
    for prefix, matmul, norm in (("attention.output", out, norm1), ("output", down, norm2)):
        # SkipLayerNormalization inputs: input, skip, gamma, beta, bias of the dense before it.
        dense = _linear(graph.tensor(matmul.input[1]), graph.tensor(norm.input[4]))
        params |= _prefixed(f"{prefix}.dense", dense)
        params[f"{prefix}.LayerNorm.weight"] = graph.tensor(norm.input[2])
        params[f"{prefix}.LayerNorm.bias"] = graph.tensor(norm.input[3])
    dense = _linear(graph.tensor(inter.input[1]), graph.tensor(gelu.input[1]))
    params |= _prefixed("intermediate.dense", dense)
    heads = int(_attribute(attention, "num_heads"))
    return params, norm2.output[0], heads, float(_attribute(norm2, "epsilon"))


def _prefixed(prefix: str, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in params.items()}


def _head(graph: _Graph, output: str) -> dict[str, torch.Tensor]:
    """The Gemm (weight [out, in], transB=1, as nn.Linear) behind a graph output, past Casts."""
    node = graph.producer[output]
    while node.op_type == "Cast":
        node = graph.producer[node.input[0]]
    if node.op_type != "Gemm" or int(_attribute(node, "transB")) != 1:
        raise GraphLayoutError(f"{output} does not come from a Gemm with transB=1")
    return {"weight": graph.tensor(node.input[1]), "bias": graph.tensor(node.input[2])}


def torch_model(onnx_path: Path, pooling: str, attention: str = "sdpa") -> MultiTaskModel:
    """A `MultiTaskModel` holding the weights of `onnx_path` (fp32, CPU, eval mode);
    `attention` is transformers' attention implementation (sdpa or eager)."""
    graph = _Graph.load(onnx_path)
    embed = graph.only("EmbedLayerNormalization")
    names = ("word_embeddings", "position_embeddings", "token_type_embeddings")
    state = {
        f"embeddings.{n}.weight": graph.tensor(embed.input[2 + i]) for i, n in enumerate(names)
    }
    state["embeddings.LayerNorm.weight"] = graph.tensor(embed.input[5])
    state["embeddings.LayerNorm.bias"] = graph.tensor(embed.input[6])
    hidden, layers, heads, eps = embed.output[0], 0, 0, float(_attribute(embed, "epsilon"))
    while (layer := _layer(graph, hidden)) is not None:
        params, hidden, heads, eps = layer
        state |= _prefixed(f"encoder.layer.{layers}", params)
        layers += 1
    vocab, width = state["embeddings.word_embeddings.weight"].shape
    config = BertConfig(
        vocab_size=vocab,
        hidden_size=width,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=state["encoder.layer.0.intermediate.dense.weight"].shape[0],
        max_position_embeddings=state["embeddings.position_embeddings.weight"].shape[0],
        type_vocab_size=state["embeddings.token_type_embeddings.weight"].shape[0],
        layer_norm_eps=eps,
        hidden_act="gelu",  # BiasGelu is the exact (erf) GELU
        attn_implementation=attention,
    )
    encoder = BertModel(config, add_pooling_layer=False)
    missing, unexpected = encoder.load_state_dict(state, strict=False)
    # position_ids / token_type_ids are buffers BertModel makes itself.
    if [m for m in missing if not m.endswith("_ids")] or unexpected:
        raise GraphLayoutError(f"weights left over: missing {missing}, unexpected {unexpected}")
    model = MultiTaskModel(encoder, pooling=pooling)
    model.topic_head.load_state_dict(_head(graph, "topic_logits"))
    model.sentiment_head.load_state_dict(_head(graph, "sentiment_logits"))
    return model.eval()
