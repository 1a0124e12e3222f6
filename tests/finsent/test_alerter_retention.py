"""The alerter prunes on its leader's turn: `run_alerter` with retention set deletes old rows."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from finsent.alerter import AlerterSettings, run_alerter
from monitor.alerting.retention_job import last_run
from monitor.alerting.settings import AlertSettings
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.models import Document
from monitor.storage.settings import MonitorSettings
from tests.monitor.storage.test_retention import document

pytestmark = pytest.mark.integration


def test_the_leader_prunes_old_documents_and_stamps_the_run(database: MonitorSettings) -> None:
    now = datetime.now(UTC)
    engine = make_engine(database)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        session.add(document("old", now - timedelta(days=40)))
        session.add(document("new", now - timedelta(hours=1)))
    settings = AlerterSettings(
        monitor=database.model_copy(update={"retention_days": 30}),
        alerts=AlertSettings(alert_interval_s=0.2),
        stream=None,
    )
    stop = threading.Event()
    thread = threading.Thread(target=run_alerter, args=(settings, stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while True:
            with sessions() as session:
                if last_run(session=session) is not None:
                    break
            assert time.monotonic() < deadline, "the alerter did not prune within 20 s"
            time.sleep(0.1)
        with sessions() as session:
            assert set(session.scalars(select(Document.id))) == {"new"}
    finally:
        stop.set()
        thread.join(timeout=15)
        engine.dispose()
    assert not thread.is_alive()
