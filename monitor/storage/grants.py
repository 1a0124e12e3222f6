"""A read-only login role for the dashboard: SELECT on exactly the tables it reads, nothing more.

Everything happens in one transaction, so a failure leaves no new role and no half-applied grant.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy import Connection, Engine, TextClause, text
from sqlalchemy.exc import DBAPIError

from monitor.exceptions import RoleGrantFailed
from monitor.storage.db import error_summary
from monitor.storage.models import Alert, AlertDelivery, Document, RejectedRecord
from monitor.storage.rollup_models import (
    IngestDay,
    IngestHour,
    IngestMinute,
    RollupState,
    SentimentDay,
    SentimentHour,
    SentimentMinute,
    SentimentWeek,
)
from monitor.storage.schema import METADATA

# What monitor.storage.queries and alert_queries read (through records.py). test_grants runs every
# one of them as the role, so a table they start reading without being listed here fails there.
READER_TABLES: tuple[str, ...] = tuple(
    str(m.__tablename__)
    for m in (
        *(Document, SentimentMinute, Alert, AlertDelivery, RejectedRecord),
        *(SentimentHour, SentimentDay, SentimentWeek),
        *(IngestMinute, IngestHour, IngestDay, RollupState),
    )
)
# Every table finsent keeps: on these the role ends with nothing beyond SELECT on READER_TABLES.
OWN_TABLES: tuple[str, ...] = (*METADATA.tables, "alembic_version")
WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
MAX_NAME_BYTES = 63  # PostgreSQL silently truncates longer names (NAMEDATALEN - 1)
# Attributes a reader must not keep (CREATEROLE could grant it a writer's membership).
_DROPPED = (
    ("rolcreatedb", "NOCREATEDB"),
    ("rolcreaterole", "NOCREATEROLE"),
    ("rolreplication", "NOREPLICATION"),
    ("rolbypassrls", "NOBYPASSRLS"),
)


_HELD_ON_TABLE = text(
    "select p from unnest(cast(:privileges as text[])) as p"
    " where has_table_privilege(:r, cast(:oid as oid), p)"
)
_HELD_ON_SEQUENCE = text(
    "select p from unnest(cast(:privileges as text[])) as p"
    " where has_sequence_privilege(:r, cast(:oid as oid), p)"
)


@dataclass(frozen=True, slots=True)
class ReaderGrant:
    """What `grant_reader` left in place."""

    role: str
    created: bool
    password_set: bool
    database: str
    schemas: tuple[str, ...]
    tables: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Objects:
    """finsent's objects in the connected database: table name -> (oid, schema, name), the
    sequences behind its serial columns, and the schemas holding the reader's tables."""

    database: str
    tables: dict[str, tuple[int, str, str]]
    sequences: dict[int, tuple[str, str]]
    schemas: tuple[str, ...]


def grant_reader(engine: Engine, role: str, *, password: SecretStr | None = None) -> ReaderGrant:
    """Create ROLE (LOGIN) or update it, and leave it able to read only `READER_TABLES`.

    Revokes whatever else this user granted the role on finsent's tables and sequences and CREATE
    on their schema and database, then checks that no other path (PUBLIC, a membership, another
    grantor) lets it write; when one does, `RoleGrantFailed` and the transaction rolls back. The
    password travels as a SCRAM verifier computed here, so it never reaches the server's logs.
    Without `password` a new role has none and an existing one keeps its own.
    """
    check_role_name(role)
    try:
        with engine.begin() as conn:
            return _grant(conn, role, password)
    except (DBAPIError, psycopg.Error) as e:
        raise RoleGrantFailed(
            f"cannot set up the read-only role {role!r}: {error_summary(e)}"
        ) from e


def check_role_name(role: str) -> None:
    """`RoleGrantFailed` for a name PostgreSQL would refuse late or silently change."""
    if not role:
        raise RoleGrantFailed("ROLE: the role name is empty")
    if role != role.strip() or not role.isprintable():
        raise RoleGrantFailed(f"ROLE: {role!r} has surrounding spaces or control characters")
    size = len(role.encode())
    if size > MAX_NAME_BYTES:
        raise RoleGrantFailed(
            f"ROLE: {role!r} is {size} bytes; PostgreSQL role names have at most {MAX_NAME_BYTES}"
        )


def _grant(conn: Connection, role: str, password: SecretStr | None) -> ReaderGrant:
    found = _locate(conn)
    created = _create_or_update_role(conn, role, password, found)
    name = _quote(conn, role)
    _revoke(conn, name, found)
    _run(conn, f"GRANT CONNECT ON DATABASE {_quote(conn, found.database)} TO {name}")
    for schema in found.schemas:
        _run(conn, f"GRANT USAGE ON SCHEMA {_quote(conn, schema)} TO {name}")
    readable = ", ".join(_qualified(conn, found.tables[t][1:]) for t in READER_TABLES)
    _run(conn, f"GRANT SELECT ON TABLE {readable} TO {name}")
    leftovers = _leftovers(conn, role, found)
    if leftovers:
        raise RoleGrantFailed(
            f"role {role!r} could still use {', '.join(leftovers)} through PUBLIC, a role it "
            "belongs to or another grantor; revoke that, then run this again (nothing was changed)"
        )
    return ReaderGrant(
        role, created, password is not None, found.database, found.schemas, READER_TABLES
    )


def _locate(conn: Connection) -> _Objects:
    """finsent's tables as the queries resolve them (search_path); all READER_TABLES must exist."""
    tables = {
        name: (int(oid), schema, relname)
        for name, oid, schema, relname in conn.execute(
            text(
                "select u.name, c.oid, n.nspname, c.relname"
                " from unnest(cast(:names as text[])) as u(name)"
                " join pg_class c on c.oid = to_regclass(quote_ident(u.name))"
                " join pg_namespace n on n.oid = c.relnamespace"
            ),
            {"names": list(OWN_TABLES)},
        )
    }
    missing = [t for t in READER_TABLES if t not in tables]
    if missing:
        raise RoleGrantFailed(
            f"the database has no table {missing[0]}: run `finsent db upgrade` first"
        )
    sequences = {
        int(oid): (schema, relname)
        for oid, schema, relname in conn.execute(
            text(
                "select s.oid, n.nspname, s.relname from pg_depend d"
                " join pg_class s on s.oid = d.objid and s.relkind = 'S'"
                " join pg_namespace n on n.oid = s.relnamespace"
                " where d.classid = 'pg_class'::regclass and d.deptype in ('a', 'i')"
                " and d.refobjid = any(cast(:oids as oid[]))"
            ),
            {"oids": [oid for oid, _, _ in tables.values()]},
        )
    }
    database = str(conn.scalar(text("select current_database()")))
    schemas = tuple(sorted({tables[t][1] for t in READER_TABLES}))
    return _Objects(database, tables, sequences, schemas)


def _create_or_update_role(
    conn: Connection, role: str, password: SecretStr | None, found: _Objects
) -> bool:
    """True when the role was created; an existing one loses the attributes a reader needn't."""
    existing = (
        conn.execute(text("select * from pg_roles where rolname = :r"), {"r": role})
        .mappings()
        .one_or_none()
    )
    options = ["LOGIN"]
    if existing is not None:
        _refuse_writer(conn, role, bool(existing["rolsuper"]), found)
        options = [word for column, word in _DROPPED if existing[column]]
        options += [] if existing["rolcanlogin"] else ["LOGIN"]
    if password is not None:
        options.append(f"PASSWORD {_verifier(conn, role, password)}")
    if existing is None:
        _run(conn, f"CREATE ROLE {_quote(conn, role)} WITH {' '.join(options)}")
    elif options:
        _run(conn, f"ALTER ROLE {_quote(conn, role)} WITH {' '.join(options)}")
    return existing is None


def _refuse_writer(conn: Connection, role: str, superuser: bool, found: _Objects) -> None:
    """Refuse a role no revoke makes read-only: a superuser, this very user, an owner."""
    if superuser:
        raise RoleGrantFailed(
            f"role {role!r} is a superuser, which can write anything; pick another"
        )
    if role == conn.scalar(text("select current_user")):
        raise RoleGrantFailed(f"role {role!r} is the user of FINSENT_DATABASE_URL; pick another")
    owned = conn.scalars(
        text(
            "select 'table ' || relname from pg_class where oid = any(cast(:oids as oid[]))"
            " and pg_has_role(:r, relowner, 'MEMBER')"
            " union all select 'schema ' || nspname from pg_namespace"
            " where nspname = any(:schemas) and pg_has_role(:r, nspowner, 'MEMBER')"
            " union all select 'database ' || datname from pg_database"
            " where datname = current_database() and pg_has_role(:r, datdba, 'MEMBER')"
        ),
        {"oids": [t[0] for t in found.tables.values()], "schemas": _all_schemas(found), "r": role},
    ).first()
    if owned is not None:
        raise RoleGrantFailed(
            f"role {role!r} owns (or belongs to the owner of) {owned}, so it could always write; "
            "pick another role"
        )


def _revoke(conn: Connection, name: str, found: _Objects) -> None:
    """Take back all this user granted the role on finsent's objects (column grants too)."""
    tables = ", ".join(_qualified(conn, t[1:]) for t in found.tables.values())
    _run(conn, f"REVOKE ALL ON TABLE {tables} FROM {name}")
    if found.sequences:
        sequences = ", ".join(_qualified(conn, s) for s in found.sequences.values())
        _run(conn, f"REVOKE ALL ON SEQUENCE {sequences} FROM {name}")
    for schema in _all_schemas(found):
        _run(conn, f"REVOKE CREATE ON SCHEMA {_quote(conn, schema)} FROM {name}")
    _run(conn, f"REVOKE CREATE ON DATABASE {_quote(conn, found.database)} FROM {name}")


def _leftovers(conn: Connection, role: str, found: _Objects) -> list[str]:
    """Every privilege the role still holds beyond SELECT on READER_TABLES, by any path."""
    checks: list[tuple[TextClause, int, tuple[str, ...], str]] = [
        (_HELD_ON_TABLE, oid, WRITES if n in READER_TABLES else (*WRITES, "SELECT"), n)
        for n, (oid, _, _) in found.tables.items()
    ]
    checks += [
        (_HELD_ON_SEQUENCE, oid, ("USAGE", "SELECT", "UPDATE"), name)
        for oid, (_, name) in found.sequences.items()
    ]
    held = [
        f"{p} on {label}"
        for query, oid, privileges, label in checks
        for p in conn.scalars(query, {"privileges": list(privileges), "r": role, "oid": oid})
    ]
    for schema in _all_schemas(found):
        params = {"r": role, "s": schema}
        if conn.scalar(text("select has_schema_privilege(:r, :s, 'CREATE')"), params):
            held.append(f"CREATE on schema {schema}")
    if conn.scalar(
        text("select has_database_privilege(:r, current_database(), 'CREATE')"), {"r": role}
    ):
        held.append("CREATE on the database")
    return held


def _all_schemas(found: _Objects) -> list[str]:
    return sorted({schema for _, schema, _ in found.tables.values()})


def _verifier(conn: Connection, role: str, password: SecretStr) -> str:
    """The password as the SCRAM verifier the server stores, quoted as an SQL literal."""
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("grant_reader needs an engine on the psycopg driver")
    # Named here rather than left to libpq, which would query the server behind SQLAlchemy's back.
    algorithm = str(conn.scalar(text("show password_encryption"))).encode()
    secret = password.get_secret_value().encode()
    verifier = raw.pgconn.encrypt_password(secret, role.encode(), algorithm).decode("ascii")
    return sql.quote(verifier, raw)


def _run(conn: Connection, statement: str) -> None:
    # Utility statements take no bind parameters: every name here went through _quote and the one
    # literal through psycopg's quoting. Sent without parameters, `%` and `:` in names stay as is.
    conn.exec_driver_sql(statement)


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _qualified(conn: Connection, located: tuple[str, str]) -> str:
    schema, name = located
    return f"{_quote(conn, schema)}.{_quote(conn, name)}"
