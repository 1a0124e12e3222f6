"""A seeded database for the dashboard's tests, and Streamlit caches emptied between tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import streamlit as st

from monitor.storage.settings import MonitorSettings
from tests.dashboard.dashboard_seed import seed


@pytest.fixture
def seeded(make_database: Callable[..., MonitorSettings]) -> MonitorSettings:
    """A fresh migrated database holding `dashboard_seed`'s history."""
    settings = make_database()
    seed(settings)
    return settings


@pytest.fixture
def dashboard_env(seeded: MonitorSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Points the in-process app (AppTest) at the seeded database; yields its URL."""
    url = seeded.sqlalchemy_url
    monkeypatch.setenv("FINSENT_DATABASE_URL", url)
    monkeypatch.delenv("FINSENT_DASHBOARD_DATABASE_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()
