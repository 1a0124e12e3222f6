"""Fixtures shared by the storage tests."""

from __future__ import annotations

import pytest

from monitor.storage import headline_queries


@pytest.fixture(params=["row by row", "newest days first", "whole range"])
def search_plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each search every way a range may be read: row by row (what a small test database, with
    few items in any range, gets); the newest days one by one through the text index keyed by
    day, then the rest (`SCAN_ROWS` 0: a range of many items where few are expected to match);
    and the whole range through the text index as the planner sees fit (`DENSE` 0 as well)."""
    if request.param != "row by row":
        monkeypatch.setattr(headline_queries, "SCAN_ROWS", 0)
    if request.param == "whole range":
        monkeypatch.setattr(headline_queries, "DENSE", 0)
    return str(request.param)
