"""The Pipeline page says how far back history goes (retention moves it forward)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import streamlit as st

from monitor.storage.settings import MonitorSettings
from tests.dashboard.test_dashboard_pages import _open

pytestmark = pytest.mark.integration


def _captions(page: str) -> list[str]:
    return [c.value for c in _open(page).caption]


def test_pipeline_says_since_when_history_is_kept(dashboard_env: str) -> None:
    # dashboard_seed's oldest item is published at 13:30:01 on its day.
    assert "History kept since 2026-03-02 13:30 UTC (event time)." in _captions("views/pipeline.py")


def test_an_empty_database_has_no_history_yet(
    make_database: Callable[..., MonitorSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINSENT_DATABASE_URL", make_database().sqlalchemy_url)
    monkeypatch.delenv("FINSENT_DASHBOARD_DATABASE_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    assert "No history kept yet." in _captions("views/pipeline.py")
