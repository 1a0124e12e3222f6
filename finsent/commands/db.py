"""`finsent db`: apply and roll back the Alembic migrations on `FINSENT_DATABASE_URL`, and set up
the dashboard's read-only role."""

from __future__ import annotations

import os

import typer
from alembic import command
from pydantic import SecretStr

from finsent.commands.prune import prune
from migrations import alembic_config
from monitor.exceptions import RoleGrantFailed
from monitor.storage.backfill import backfill_rollups
from monitor.storage.db import check_connection, describe, ensure_database, make_engine
from monitor.storage.grants import check_role_name, grant_reader
from monitor.storage.search_vectors import backfill_search_vectors
from monitor.storage.settings import MonitorSettings

db_app = typer.Typer(
    help="Database schema (Alembic migrations) and the dashboard's read-only role.",
    no_args_is_help=True,
)


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


db_app.command("prune")(prune)  # retention: finsent/commands/prune.py


@db_app.command("backfill-rollups")
def backfill_rollups_command() -> None:
    """Fill the hour/day rollups and ingest counters from the history stored before 0005, and
    the stored search vectors of the documents stored before 0007.

    Rebuilds the rollups from the minute rollup and the documents, one day (series) or hour
    (ingest) per short transaction, and fills `documents.search_vector` a batch of ids at a time,
    while the worker keeps writing; then the dashboard reads them, and 0006's search index, no
    longer read, is dropped. Safe to interrupt and to run again at any time. Run it once after
    `finsent db upgrade` on a database that had rows, once every worker runs the new version.
    """
    engine = make_engine(_reachable_settings())
    try:
        done = backfill_rollups(engine, progress=_progress)
        filled = backfill_search_vectors(engine, progress=_progress)
    finally:
        engine.dispose()
    typer.echo(
        f"rollups complete: {done.series_days} dimension-days of series and "
        f"{done.ingest_hours} hours of ingest counters rebuilt; "
        f"search vectors complete: {filled} documents filled"
    )


def _progress(line: str) -> None:
    typer.echo(line, err=True)


@db_app.command("grant-reader")
def grant_reader_command(
    role: str = typer.Argument(..., help="The login role the dashboard connects as."),
    password_env: str | None = typer.Option(
        None,
        "--password-env",
        metavar="VAR",
        help="Environment variable holding the role's password (kept off the command line). "
        "Without it a new role gets no password (trust/peer setups), an existing one keeps its.",
    ),
) -> None:
    """Create or update ROLE so that it may only read what the dashboard shows.

    SELECT on the dashboard's tables, USAGE and CONNECT; other grants on finsent's tables revoked.

    Safe to run again, e.g. after `finsent db upgrade`.
    """
    check_role_name(role)  # both before connecting: a bad argument changes nothing
    password = _password_from(password_env)
    engine = make_engine(_reachable_settings())
    try:
        done = grant_reader(engine, role, password=password)
    finally:
        engine.dispose()
    if password_env:
        login = f"password from ${password_env}"
    else:
        login = "no password" if done.created else "password unchanged"
    typer.echo(
        f"role {done.role!r} {'created' if done.created else 'updated'} ({login}): SELECT on "
        f"{', '.join(done.tables)} in database {done.database}, schema {', '.join(done.schemas)}; "
        "nothing else"
    )


def _password_from(variable: str | None) -> SecretStr | None:
    """The password named by --password-env, read before anything connects or changes."""
    if variable is None:
        return None
    value = os.environ.get(variable, "")
    if not value:
        raise RoleGrantFailed(
            f"--password-env: the environment variable {variable!r} is not set or is empty"
        )
    return SecretStr(value)
