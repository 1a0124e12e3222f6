"""Engines and sessions: the one place that opens connections to PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from monitor.exceptions import DatabaseUnavailable
from monitor.storage.records import redact_secrets
from monitor.storage.settings import MonitorSettings


def make_engine(settings: MonitorSettings) -> Engine:
    """A pooled engine for `settings.database_url`; connects lazily."""
    return create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.database_pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": max(1, int(settings.database_connect_timeout_s))},
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Raise `DatabaseUnavailable`, naming the setting, when PostgreSQL won't answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as e:
        raise DatabaseUnavailable(
            f"FINSENT_DATABASE_URL: cannot connect to {describe(engine)}: {error_summary(e)}"
        ) from e


def describe(engine: Engine) -> str:
    """The engine's URL without its password (or a query, which may carry one), for messages."""
    return redact_secrets(engine.url.render_as_string(hide_password=True))


def error_summary(error: Exception, limit: int = 300) -> str:
    """The first line of a database error (the driver's own message when SQLAlchemy wraps one)."""
    orig = error.orig if isinstance(error, DBAPIError) else None
    text = str(orig if orig is not None else error).strip()
    return text.splitlines()[0][:limit] if text else type(error).__name__


def ensure_database(settings: MonitorSettings) -> bool:
    """Create the database named in the URL if the server lacks it; True when it was created.

    Connects to the server's `postgres` maintenance database, which needs CREATEDB rights.
    """
    target = make_url(settings.sqlalchemy_url)
    name = target.database
    if not name:
        raise DatabaseUnavailable("FINSENT_DATABASE_URL: the URL names no database")
    admin = create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        check_connection(admin)
        with admin.connect() as conn:
            exists = conn.scalar(text("select 1 from pg_database where datname = :n"), {"n": name})
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(text(f"create database {quoted}"))
            return True
    finally:
        admin.dispose()
