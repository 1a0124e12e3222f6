"""`finsent db`: apply and roll back the Alembic migrations on `FINSENT_DATABASE_URL`."""

from __future__ import annotations

import typer
from alembic import command

from migrations import alembic_config
from monitor.storage.db import check_connection, describe, ensure_database, make_engine
from monitor.storage.settings import MonitorSettings

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def _reachable_settings() -> MonitorSettings:
    settings = MonitorSettings()
    engine = make_engine(settings)
    try:
        check_connection(engine)
        typer.echo(f"database: {describe(engine)}", err=True)
    finally:
        engine.dispose()
    return settings


@db_app.command()
def upgrade(
    revision: str = typer.Argument("head", help="Target revision."),
    create: bool = typer.Option(True, help="Create the database first if the server lacks it."),
) -> None:
    """Upgrade the schema to REVISION (default: the newest)."""
    if create and ensure_database(MonitorSettings()):
        typer.echo("created the database", err=True)
    command.upgrade(alembic_config(_reachable_settings()), revision)


@db_app.command()
def downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base."),
) -> None:
    """Downgrade the schema to REVISION (`base` removes every table)."""
    command.downgrade(alembic_config(_reachable_settings()), revision)


@db_app.command()
def current() -> None:
    """Show the revision the database is at."""
    command.current(alembic_config(_reachable_settings()))
