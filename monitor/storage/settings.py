"""Settings of the monitor layer: where PostgreSQL is."""

from __future__ import annotations

from pydantic import PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/finsent"


class MonitorSettings(BaseSettings):
    """`FINSENT_DATABASE_URL` (SQLAlchemy form, driver psycopg 3) and pool sizing."""

    model_config = SettingsConfigDict(
        env_prefix="FINSENT_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: PostgresDsn = PostgresDsn(DEFAULT_DATABASE_URL)
    database_pool_size: int = 5
    database_connect_timeout_s: float = 5.0

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver named, whatever form the user wrote."""
        url = str(self.database_url)
        scheme, rest = url.split("://", 1)
        return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url
