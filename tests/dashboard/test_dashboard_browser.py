"""The real thing: `finsent dashboard` serving a seeded database, loaded in Debian's Chromium.

Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it). Each page must draw its
charts and show no Streamlit error or exception. The Overview screenshot lands in tmp_path; copy it
to docs/dashboard.png by hand when the dashboard changes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from monitor.storage.settings import MonitorSettings
from stream.broker import free_port
from tests.dashboard.dashboard_seed import END, add_minute

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# (url path, title, how many charts the seeded page draws at least)
PAGES = [
    ("", "Overview", 2),
    ("topics", "Topics", 3),
    ("tickers", "Tickers", 2),
    ("alerts", "Alerts", 2),
    ("pipeline", "Pipeline", 2),
    ("headlines", "Headlines", 0),
]
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
# Vega draws each chart into a `.marks` canvas (or svg) once its data has arrived.
CHARTS_DRAWN = "n => document.querySelectorAll('[data-testid=stVegaLiteChart] .marks').length >= n"
ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|\b\w+Error: |\bException\b")


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the dashboard exited before it was ready"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer on {url} within {timeout_s}s")


@pytest.fixture
def dashboard_url(seeded: MonitorSettings, tmp_path: Path) -> Iterator[str]:
    """`finsent dashboard` as a subprocess on a free loopback port, stopped with its group."""
    port = free_port()
    env = {**os.environ, "FINSENT_DATABASE_URL": seeded.sqlalchemy_url, "HOME": str(tmp_path)}
    env["FINSENT_DASHBOARD_REFRESH_S"] = "2"
    env.pop("FINSENT_DASHBOARD_DATABASE_URL", None)
    log = (tmp_path / "dashboard.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "finsent", "dashboard", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def _check_page(page: Page, url: str, title: str, charts: int) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    if charts:
        page.wait_for_function(CHARTS_DRAWN, arg=charts, timeout=30_000)
    else:
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert page.locator(ERRORS).count() == 0, page.locator(ERRORS).first.inner_text()
    body = page.locator("body").inner_text()
    assert not ERROR_TEXT.search(body), ERROR_TEXT.search(body)


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
)
def test_every_page_draws_without_errors_and_refreshes_live(
    dashboard_url: str, seeded: MonitorSettings, tmp_path: Path
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            for path, title, charts in PAGES:
                _check_page(page, f"{dashboard_url}/{path}", title, charts)
                page.screenshot(path=str(tmp_path / f"dashboard-{path or 'overview'}.png"))
            _check_headline_pages(page)
            _check_page(page, dashboard_url, "Overview", 2)
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            _check_live_refresh(page, seeded)
        finally:
            browser.close()
    assert (tmp_path / "dashboard.png").stat().st_size > 20_000


def _check_headline_pages(page: Page) -> None:
    """On the Headlines page (the last one opened), Older and Newer move by keyset pages."""
    page.get_by_text("240 items match · page 1").wait_for(timeout=30_000)
    page.get_by_role("button", name="Older →").click()
    page.get_by_text("240 items match · page 2").wait_for(timeout=30_000)
    page.get_by_role("button", name="← Newer").click()
    page.get_by_text("240 items match · page 1").wait_for(timeout=30_000)
    assert page.locator(ERRORS).count() == 0


def _check_live_refresh(page: Page, seeded: MonitorSettings) -> None:
    """New rows show up by themselves, without a page reload (the marker survives)."""
    items = page.locator('[data-testid="stMetricValue"]').first
    assert items.inner_text() == "240"
    page.evaluate("window.__finsentMarker = 42")
    add_minute(seeded, END, items=10)  # the hour now ends at 15:01: 236 old items + 10 new
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stMetricValue]').innerText === '246'",
        timeout=30_000,
    )
    assert page.evaluate("window.__finsentMarker") == 42
