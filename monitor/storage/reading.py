"""How readers that never write (the dashboard) connect: an engine for a URL, and sessions whose
driver errors become `StoreUnreadable` saying what to do, without credentials."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg.errors import InsufficientPrivilege
from pydantic import PostgresDsn
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from monitor.exceptions import MonitorError
from monitor.storage.db import describe, error_summary, make_engine
from monitor.storage.settings import DEFAULT_DATABASE_URL, MonitorSettings

__all__ = ["DEFAULT_DATABASE_URL", "StoreUnreadable", "read_engine", "read_session"]


class StoreUnreadable(MonitorError):
    """The database cannot be read; the message says why and what to do."""


def read_engine(url: str, *, pool_size: int = 2) -> Engine:
    """A small pooled engine for `url` (any PostgreSQL URL form); connects lazily."""
    return make_engine(MonitorSettings(database_url=PostgresDsn(url), database_pool_size=pool_size))


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading; a missing schema or an unreachable server is `StoreUnreadable`."""
    try:
        with Session(engine) as session:
            yield session
    except ProgrammingError as e:
        if isinstance(e.orig, InsufficientPrivilege):
            raise StoreUnreadable(
                f"{describe(engine)} may not read finsent's tables: run "
                "`finsent db grant-reader ROLE` for this role as the writer"
            ) from e
        raise StoreUnreadable(
            f"the database {describe(engine)} has no finsent schema: run `finsent db upgrade`"
        ) from e
    except OperationalError as e:
        raise StoreUnreadable(f"cannot read {describe(engine)}: {error_summary(e)}") from e
