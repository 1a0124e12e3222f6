"""`finsent demo --no-browser --duration 180` on an embedded database, as a newcomer runs it: the
scripted burst must fire its ticker's alert (and may fire the topic the model gives its
headlines), nothing else may fire, the receiver verifies each one, and nothing is left running."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from model.scorer import Scorer
from model.settings import ModelSettings
from stream.synthetic import COMPANIES, TEMPLATES

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DURATION_S = 180


def _model_shipped() -> bool:
    return (ModelSettings().model_dir / "metadata.json").exists()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A folder the `postgres` user can enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="finsent-demo-", dir="/var/tmp"))
    os.chmod(folder, 0o755)  # noqa: S103 - the embedded server runs as postgres
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _burst_topic() -> str:
    """The topic the shipped model gives the burst's headline (the demo's one negative
    Earnings template about Northwind Foods)."""
    co, symbol = next(c for c in COMPANIES if c[1] == "NWF")
    headline = TEMPLATES["Earnings"][0].format(co=co, t=symbol, n=0)
    (prediction,) = Scorer.from_settings(ModelSettings()).score_texts([headline])
    return prediction.topic


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()


@pytest.mark.skipif(not _model_shipped(), reason="needs the shipped model in model/artifacts")
def test_demo_fires_the_scripted_alert_and_leaves_nothing_running(data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINSENT_")}
    result = subprocess.run(
        [sys.executable, "-m", "finsent", "demo", "--no-browser", "--port", "0"]
        + ["--duration", str(DURATION_S), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=DURATION_S + 120,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"dashboard  http://127\.0\.0\.1:\d+ +\(ready \d+s after start\)", out), out
    alerts = re.findall(
        r"ALERT +(\w+): Negative news spike on (\w+) (.+?): .*\(signature verified\)", out
    )
    assert ("firing", "ticker", "NWF") in alerts, out
    burst_topic = _burst_topic()
    others = [a for a in alerts if a[1:] not in {("ticker", "NWF"), ("topic", burst_topic)}]
    assert others == [], out
    assert re.search(r"demo +stopped: [1-9]\d* alert events received", out), out
    for pid in map(int, re.findall(r"\(pid (\d+),", out)):
        assert not _alive(pid), f"pid {pid} outlived the demo"
    assert not (data_dir / "pg" / "postmaster.pid").exists(), "PostgreSQL still running"
