"""Session-scoped real services: a PostgreSQL server and a Tansu broker, started lazily.

Each test gets its own database and its own topic names from the factories below, so tests never
step on each other.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from finsent.postgres import PrivateCluster, server_answers
from migrations import alembic_config
from monitor.storage.settings import MonitorSettings
from stream.broker import EmbeddedBroker, free_port
from stream.settings import StreamSettings

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a server's maintenance database: $FINSENT_TEST_POSTGRES, :5432, or a private one."""
    configured = os.environ.get("FINSENT_TEST_POSTGRES")
    if configured:
        yield configured
        return
    if server_answers("127.0.0.1", 5432):
        yield DEFAULT_SERVER
        return
    with tempfile.TemporaryDirectory(prefix="finsent-pg-") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 - the postgres user must reach its data folder
        cluster = PrivateCluster(Path(tmp) / "data", free_port()).start()
        try:
            yield cluster.url
        finally:
            cluster.stop()


@pytest.fixture(scope="session")
def make_database(postgres_server: str) -> Iterator[Callable[[], MonitorSettings]]:
    """Factory: a fresh, migrated database per call; all of them dropped at the end."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    created: list[str] = []

    def make(*, migrate: bool = True) -> MonitorSettings:
        name = f"finsent_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'create database "{name}"'))
        created.append(name)
        url = make_url(postgres_server).set(database=name)
        settings = MonitorSettings(database_url=url.render_as_string(hide_password=False))
        if migrate:
            command.upgrade(alembic_config(settings), "head")
        return settings

    yield make
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture
def database(make_database: Callable[..., MonitorSettings]) -> MonitorSettings:
    """A fresh database with the schema at head."""
    return make_database()


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[EmbeddedBroker]:
    """One Tansu broker on a free loopback port for the whole session, stopped by PID at the end."""
    with EmbeddedBroker() as broker:
        yield broker


@pytest.fixture
def stream_settings(kafka_broker: EmbeddedBroker) -> StreamSettings:
    """Settings pointing at the session broker, with topic and group names unique to this test."""
    suffix = uuid.uuid4().hex[:8]
    return StreamSettings(
        kafka_bootstrap=kafka_broker.bootstrap,
        topic_raw=f"news.raw.{suffix}",
        topic_scored=f"news.scored.{suffix}",
        topic_dlq=f"news.dlq.{suffix}",
        topic_alerts=f"sentiment.alerts.{suffix}",
        topic_partitions=2,
        consumer_group=f"finsent-test-{suffix}",
    )
