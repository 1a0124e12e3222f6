"""Errors raised by the model package; the CLI prints them as one line."""


class ModelError(Exception):
    """Root of every model error: missing artifacts, bad input files, export mismatches."""


class DataError(ModelError):
    """Training or evaluation data is missing or malformed."""


class ArtifactError(ModelError):
    """A model directory is missing files or holds files that do not match each other."""


class ExportError(ModelError):
    """An exported ONNX model disagrees with the torch model it came from."""


class TrainExtraMissingError(ModelError):
    """A training-side command ran without the `train` extra (torch, transformers, onnx)."""
