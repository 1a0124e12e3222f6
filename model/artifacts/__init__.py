"""The shipped model: ONNX files, tokenizer, labels, metadata and card (package data)."""
