"""Alembic migrations: the database schema's history. `alembic_config` points Alembic here."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from monitor.storage.settings import MonitorSettings

HERE = Path(__file__).resolve().parent


def alembic_config(settings: MonitorSettings) -> Config:
    """An Alembic config for this folder and `settings.database_url`, with no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    # The URL travels as an attribute, not an ini option: ini values treat `%` as interpolation.
    config.attributes["database_url"] = settings.sqlalchemy_url
    return config
