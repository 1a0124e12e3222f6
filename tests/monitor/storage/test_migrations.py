"""The Alembic history is the schema: it applies, rolls back, re-applies, and matches the models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from migrations import alembic_config
from monitor.storage.schema import METADATA
from monitor.storage.settings import MonitorSettings

pytestmark = pytest.mark.integration

TABLES = {
    "documents",
    "sentiment_minute",
    "alerts",
    "alert_deliveries",
    "alert_cursors",
    "rejected_records",
    *("sentiment_hour", "sentiment_day", "sentiment_week"),
    *("ingest_minute", "ingest_hour", "ingest_day"),
    "rollup_state",
}


def _tables(settings: MonitorSettings) -> set[str]:
    engine = create_engine(settings.sqlalchemy_url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(make_database: Callable[..., MonitorSettings]) -> None:
    settings = make_database(migrate=False)
    config = alembic_config(settings)
    assert _tables(settings) == set()

    command.upgrade(config, "head")
    assert _tables(settings) == TABLES
    command.downgrade(config, "base")
    assert _tables(settings) == set()
    command.upgrade(config, "head")
    assert _tables(settings) == TABLES


def test_models_and_migrations_do_not_drift(database: MonitorSettings) -> None:
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, METADATA)
    finally:
        engine.dispose()
    assert diff == []
