"""Fixtures shared by the storage tests."""

from __future__ import annotations

import pytest

from monitor.storage import headline_queries


@pytest.fixture(params=["row by row", "text index"])
def search_plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each search both ways: row by row (what a small test database, with few items in any
    range, gets) and through the text index (`SCAN_ROWS` 0: what ranges of many items get)."""
    if request.param == "text index":
        monkeypatch.setattr(headline_queries, "SCAN_ROWS", 0)
    return str(request.param)
