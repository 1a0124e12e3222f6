"""The retention policy without a database: settings to policy, cutoffs, report arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from monitor.storage.retention import Cutoffs, PruneReport, RetentionPolicy, TableCount
from monitor.storage.settings import MonitorSettings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_zero_days_keeps_everything_and_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("", "SERIES_", "OUTBOX_"):
        monkeypatch.delenv(f"FINSENT_{name}RETENTION_DAYS", raising=False)
    monkeypatch.delenv("FINSENT_RETENTION_BATCH_ROWS", raising=False)
    policy = RetentionPolicy.of(MonitorSettings())
    assert policy == RetentionPolicy(batch_rows=5000)
    assert not policy.enabled
    assert policy.cutoffs(NOW) == Cutoffs(None, None, None)


def test_each_setting_sets_its_own_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_RETENTION_DAYS", "90")
    monkeypatch.setenv("FINSENT_SERIES_RETENTION_DAYS", "730")
    monkeypatch.setenv("FINSENT_OUTBOX_RETENTION_DAYS", "0")
    monkeypatch.setenv("FINSENT_RETENTION_BATCH_ROWS", "100")
    policy = RetentionPolicy.of(MonitorSettings())
    assert policy == RetentionPolicy(timedelta(days=90), timedelta(days=730), None, 100)
    assert policy.enabled


def test_negative_days_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_SERIES_RETENTION_DAYS", "-1")
    with pytest.raises(ValidationError, match="series_retention_days"):
        MonitorSettings()
    with pytest.raises(ValueError, match="outbox"):
        RetentionPolicy(outbox=timedelta(0))
    with pytest.raises(ValueError, match="batch_rows"):
        RetentionPolicy(batch_rows=0)


def test_the_series_cutoff_never_passes_the_floor() -> None:
    policy = RetentionPolicy(documents=timedelta(days=30), series=timedelta(days=1))
    assert policy.cutoffs(NOW) == Cutoffs(NOW - timedelta(days=30), NOW - timedelta(days=1), None)
    floor = NOW - timedelta(days=3)
    assert policy.cutoffs(NOW, floor).series == floor
    later_floor = NOW - timedelta(hours=1)  # a floor after the cutoff changes nothing
    assert policy.cutoffs(NOW, later_floor).series == NOW - timedelta(days=1)
    assert Cutoffs(NOW, None, None).of("rejected_records") == NOW


def test_slices_of_one_run_add_up() -> None:
    first = PruneReport((TableCount("documents", NOW, 4, 2),), dry_run=False, complete=False)
    second = PruneReport((TableCount("documents", NOW, 1, 1),), dry_run=False, complete=True)
    total = first.plus(second)
    assert total.tables == (TableCount("documents", NOW, 5, 3),)
    assert total.complete
    assert total.rows("documents") == 5
