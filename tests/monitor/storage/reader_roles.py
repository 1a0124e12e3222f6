"""Uuid-named PostgreSQL roles for the grant tests: connecting as one, and dropping them after.

Roles are cluster-wide, unlike the per-test databases, so every test drops the ones it made.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from monitor.storage.settings import MonitorSettings


def new_role_name() -> str:
    return f"finsent_reader_{uuid.uuid4().hex[:10]}"


def url_as(settings: MonitorSettings, role: str) -> str:
    """The database of `settings` as `role` (the test server trusts 127.0.0.1, so no password)."""
    url = make_url(settings.sqlalchemy_url).set(username=role, password=None)
    return url.render_as_string(hide_password=False)


def role_exists(settings: MonitorSettings, role: str) -> bool:
    engine = create_engine(settings.sqlalchemy_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            found = conn.scalar(text("select 1 from pg_roles where rolname = :r"), {"r": role})
    finally:
        engine.dispose()
    return found is not None


def drop_roles(settings: MonitorSettings, roles: Iterable[str]) -> None:
    """Revoke what the roles hold in this database (and on it), then drop them."""
    engine = create_engine(
        settings.sqlalchemy_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            for role in roles:
                if conn.scalar(text("select 1 from pg_roles where rolname = :r"), {"r": role}):
                    quoted = conn.dialect.identifier_preparer.quote_identifier(role)
                    # No parameters: a name may hold `:` or `%`, which text() would take as binds.
                    conn.exec_driver_sql(f"drop owned by {quoted}")
                    conn.exec_driver_sql(f"drop role {quoted}")
    finally:
        engine.dispose()
