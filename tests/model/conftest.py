"""Fixtures for the model tests: the shipped artifact's scorer, loaded once."""

from __future__ import annotations

import pytest

from model.scorer import Scorer
from model.settings import ModelSettings


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer.from_settings(ModelSettings(device="cpu", threads=1))
