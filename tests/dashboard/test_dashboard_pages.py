"""Each page of the app, run by Streamlit's AppTest against a seeded database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from monitor.storage.settings import MonitorSettings
from tests.dashboard.dashboard_seed import SECRET_ENDPOINT

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def _open(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def test_overview_shows_index_volume_alerts_and_headlines(dashboard_env: str) -> None:
    at = _open()
    assert at.title[0].value == "Overview"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Items"] == "240"  # the default hour at four items a minute
    assert metrics["Firing alerts"] == "1"
    assert _charts(at) == 2
    firing, latest = at.dataframe[0].value, at.dataframe[1].value
    assert firing["subject"].tolist() == ["topic Earnings"]
    assert len(latest) == 15
    assert latest["published"].is_monotonic_decreasing


def test_topics_heat_map_and_selected_lines(dashboard_env: str) -> None:
    at = _open("views/topics.py")
    assert at.title[0].value == "Topics"
    assert _charts(at) == 3


def test_tickers_search_selects_a_ticker(dashboard_env: str) -> None:
    at = _open("views/tickers.py")
    at.text_input[0].input("nw").run()
    assert not at.exception
    ticker = [s for s in at.selectbox if s.label == "Ticker"][0]
    assert ticker.value == "NWF"
    assert _charts(at) == 2
    assert all("NWF" in t for t in at.dataframe[0].value["tickers"])


def test_alerts_timeline_detail_and_deliveries_hide_secrets(dashboard_env: str) -> None:
    at = _open("views/alerts.py")
    assert _charts(at) >= 2  # the timeline and the observed-vs-baseline chart
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["negative share"] == "0.800"
    assert metrics["baseline"] == "0.200"
    drivers, sent = at.dataframe[0].value, at.dataframe[1].value
    assert len(drivers) == 8
    assert sorted(sent["state"]) == ["delivered", "retrying"]
    shown = sent.to_string() + " ".join(str(e.value) for e in at.caption)
    assert "s3cr3tT0ken" not in shown and SECRET_ENDPOINT not in shown
    assert "https://hooks.example.com/…" in sent["endpoint"].tolist()


def test_a_webhook_link_opens_its_alert_even_outside_the_range(dashboard_env: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["alert"] = "2"  # the resolved $ZEN episode, 70 minutes back
    at.session_state["range"] = "15 minutes"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Alerts"
    assert at.selectbox(key="alert").value == 2
    assert any(c.value.startswith("2026-03-02 14:45 – ") for c in at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["observed"], metrics["expected"], metrics["z"]) == ("14", "4.8", "5.1")
    why = " ".join(m.value for m in at.markdown)
    assert "**Why it fired:** 14 of 24 items negative in the last 5 min; 4.8 expected" in why


def test_pipeline_rate_rejects_and_model(dashboard_env: str) -> None:
    at = _open("views/pipeline.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Items stored"] == "360"
    assert metrics["Rejected records"] == "4"
    assert _charts(at) == 2
    assert at.dataframe[0].value["model"].tolist() == ["finsent-minilm 1.0.0"]


def test_headlines_search_filter_and_keyset_pages(dashboard_env: str) -> None:
    at = _open("views/headlines.py")
    first = at.dataframe[0].value
    assert len(first) == 50 and first["published"].is_monotonic_decreasing
    assert at.button(key="newer").disabled and not at.button(key="older").disabled
    assert any("240 items match · page 1" in c.value for c in at.caption)
    at.button(key="older").click().run()
    second = at.dataframe[0].value
    assert not at.exception
    assert any("page 2" in c.value for c in at.caption)
    assert second["published"].max() <= first["published"].min()
    at.button(key="newer").click().run()
    assert at.dataframe[0].value.equals(first)
    at.text_input[0].input('"Earnings item" $NWF').run()
    at.multiselect[1].select("negative").run()
    table = at.dataframe[0].value
    assert not at.exception
    assert any("page 1" in c.value for c in at.caption)  # new criteria: back to the newest
    assert len(table) > 0 and set(table["sentiment"]) == {"negative"}
    assert all(
        "Earnings item" in h and "$NWF" in t for h, t in table[["headline", "tickers"]].values
    )
    at.text_input[0].input("'; drop table documents; -- %").run()
    assert not at.exception and len(at.dataframe[0].value) == 0


def test_empty_database_shows_hints_not_errors(
    make_database: Callable[..., MonitorSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_database()
    monkeypatch.setenv("FINSENT_DATABASE_URL", settings.sqlalchemy_url)
    st.cache_data.clear()
    st.cache_resource.clear()  # the settings and the engine are read once per process
    hints = {
        None: "No scored items in this range yet",
        "views/topics.py": "No scored items in this range yet",
        "views/tickers.py": "No ticker matches in this range",
        "views/alerts.py": "No alert episodes in this range",
        "views/pipeline.py": "None in this range",
    }
    for page, hint in hints.items():
        at = _open(page)
        assert not at.exception and not at.error, page
        shown = [e.value for e in (*at.info, *at.caption)]
        assert any(hint in text for text in shown), (page, shown)


def test_database_without_schema_is_one_error_line_not_a_traceback(
    make_database: Callable[..., MonitorSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_database(migrate=False)
    monkeypatch.setenv("FINSENT_DATABASE_URL", settings.sqlalchemy_url)
    st.cache_data.clear()
    st.cache_resource.clear()  # the settings and the engine are read once per process
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    assert "finsent db upgrade" in at.error[0].value
