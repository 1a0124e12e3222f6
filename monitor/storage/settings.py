"""Settings of the monitor layer: where PostgreSQL is, and how long stored rows are kept."""

from __future__ import annotations

from pydantic import Field, PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/finsent"


class MonitorSettings(BaseSettings):
    """`FINSENT_DATABASE_URL` (SQLAlchemy form, driver psycopg 3), pool sizing, retention.

    A retention of 0 days keeps that kind of row for ever (`finsent db prune` and the alerter's
    daily prune read them through `monitor.storage.retention.RetentionPolicy.of`).
    """

    model_config = SettingsConfigDict(
        env_prefix="FINSENT_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # str(ValidationError) would quote the URL's password
    )

    database_url: PostgresDsn = PostgresDsn(DEFAULT_DATABASE_URL)
    database_pool_size: int = 5
    database_connect_timeout_s: float = 5.0
    retention_days: int = Field(default=0, ge=0)  # documents and rejected_records
    series_retention_days: int = Field(default=0, ge=0)  # sentiment_minute, _hour, _day
    outbox_retention_days: int = Field(default=0, ge=0)  # delivered or given-up deliveries
    retention_batch_rows: int = Field(default=5000, ge=1, le=1_000_000)

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver named, whatever form the user wrote."""
        url = str(self.database_url)
        scheme, rest = url.split("://", 1)
        return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url
