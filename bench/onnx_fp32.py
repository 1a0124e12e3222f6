"""An fp32 copy of the shipped fp16 ONNX graph: the same (fp16-rounded) weights computed in fp32 by
onnxruntime on the CPU, the exact reference for the torch module built from those weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper


def _upcast_tensor(tensor: TensorProto) -> None:
    if tensor.data_type == TensorProto.FLOAT16:
        tensor.CopyFrom(
            numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float32), tensor.name)
        )


def fp32_copy(fp16_path: Path) -> bytes:
    """The serialised graph of `fp16_path` with every fp16 weight, cast and type made fp32."""
    proto = onnx.load(str(fp16_path))
    graph = proto.graph
    for tensor in graph.initializer:
        _upcast_tensor(tensor)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.name == "to" and attribute.i == TensorProto.FLOAT16:
                attribute.i = TensorProto.FLOAT
            if attribute.type == onnx.AttributeProto.TENSOR:
                _upcast_tensor(attribute.t)
    for info in [*graph.input, *graph.output, *graph.value_info]:
        if info.type.tensor_type.elem_type == TensorProto.FLOAT16:
            info.type.tensor_type.elem_type = TensorProto.FLOAT
    return proto.SerializeToString()
