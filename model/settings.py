"""Settings of the runtime scorer, read from the `FINSENT_` environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts"

Device = Literal["auto", "cpu", "cuda"]


class ModelSettings(BaseSettings):
    """Where the exported model lives and how to run it.

    `threads` 0 means one intra-op thread per core; `max_length` 0 means the length the model
    was trained with (from the artifact's metadata).
    """

    model_config = SettingsConfigDict(
        env_prefix="FINSENT_", env_file=".env", extra="ignore", frozen=True, protected_namespaces=()
    )

    model_dir: Path = ARTIFACT_DIR
    device: Device = "auto"
    threads: int = Field(default=0, ge=0)
    batch_size: int = Field(default=64, ge=1, le=4096)
    max_length: int = Field(default=0, ge=0, le=512)
    max_chunks: int = Field(default=32, ge=1, description="Body chunks scored per document.")
