"""Helpers for tests that ask a running process's /metrics, /healthz and /readyz, and that take
its database away."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from monitor.storage.settings import MonitorSettings


def get(url: str, timeout_s: float = 5.0) -> tuple[int, str]:
    """Status and body; (0, why) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310 - loopback
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        return 0, str(e)


def wait_for_status(url: str, status: int, timeout_s: float = 60.0) -> str:
    """The body once `url` answers `status`; fails with the last answer at the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        code, body = get(url)
        if code == status:
            return body
        assert time.monotonic() < deadline, f"{url} still answers {code}: {body}"
        time.sleep(0.2)


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """One sample's value from a Prometheus text page, None when absent."""
    for family in text_string_to_metric_families(metrics):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


def wait_for_sample(
    url: str, name: str, wanted: float, timeout_s: float = 30.0, **labels: str
) -> str:
    """The metrics page once `name` reads `wanted`."""
    deadline = time.monotonic() + timeout_s
    while True:
        _, page = get(url)
        if sample(page, name, **labels) == wanted:
            return page
        assert time.monotonic() < deadline, f"{name}{labels} = {sample(page, name, **labels)}"
        time.sleep(0.2)


def drop_database(database: MonitorSettings) -> None:
    """Take the database away from under its users: their connections end, new ones fail."""
    url = make_url(database.sqlalchemy_url)
    admin = create_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with admin.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(str(url.database))
            conn.execute(text(f"drop database {quoted} with (force)"))
    finally:
        admin.dispose()
