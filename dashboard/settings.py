"""Settings of the dashboard process: which database to read, how often to refresh."""

from __future__ import annotations

from pydantic import Field, PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.storage.reading import DEFAULT_DATABASE_URL


class DashboardSettings(BaseSettings):
    """`FINSENT_DASHBOARD_DATABASE_URL` (e.g. a read-only role), else `FINSENT_DATABASE_URL`.

    The dashboard only reads; point it at a replica or a role with SELECT rights where you can.
    """

    model_config = SettingsConfigDict(
        env_prefix="FINSENT_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # str(ValidationError) would quote the URL's password
    )

    database_url: PostgresDsn = PostgresDsn(DEFAULT_DATABASE_URL)
    dashboard_database_url: PostgresDsn | None = None
    dashboard_refresh_s: float = Field(default=5.0, ge=1.0, le=3600.0)
    dashboard_page_size: int = Field(default=50, ge=5, le=1000)

    @property
    def read_url(self) -> str:
        """The URL the dashboard reads from."""
        return str(self.dashboard_database_url or self.database_url)
