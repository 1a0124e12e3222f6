"""`finsent dashboard`: loopback and headless by default, one line when the database is away."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from finsent.commands.dashboard import APP, streamlit_argv


def test_streamlit_runs_the_app_headless_without_telemetry() -> None:
    argv = streamlit_argv("127.0.0.1", 8502)
    assert argv[1:5] == ["-m", "streamlit", "run", str(APP)]
    assert APP.exists()
    for option in (
        "--server.address=127.0.0.1",
        "--server.port=8502",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
    ):
        assert option in argv


@pytest.mark.integration
def test_unreachable_read_url_is_one_line_without_the_password() -> None:
    env = {
        **os.environ,
        "FINSENT_DASHBOARD_DATABASE_URL": "postgresql://reader:hunter2@127.0.0.1:1/finsent",
    }
    result = subprocess.run(
        [sys.executable, "-m", "finsent", "dashboard", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: FINSENT_DASHBOARD_DATABASE_URL: cannot connect")
    assert "hunter2" not in result.stderr
