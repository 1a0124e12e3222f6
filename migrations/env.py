"""Alembic environment: the URL comes from the caller's settings; the target is monitor's models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from monitor.storage.schema import METADATA
from monitor.storage.settings import MonitorSettings

config = context.config
url = config.attributes.get("database_url") or MonitorSettings().sqlalchemy_url


def run_offline() -> None:
    context.configure(url=url, target_metadata=METADATA, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=METADATA, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
