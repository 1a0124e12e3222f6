"""`grant_reader` on a real server: the role runs every dashboard query and can change nothing."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import (
    Connection,
    Engine,
    Select,
    create_engine,
    delete,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
    update,
)
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from monitor.exceptions import RoleGrantFailed
from monitor.storage import alert_queries, headline_queries, queries
from monitor.storage.grants import OWN_TABLES, READER_TABLES, grant_reader
from monitor.storage.headline_queries import HeadlineFilter
from monitor.storage.queries import TimeRange
from monitor.storage.reading import StoreUnreadable, read_engine, read_session
from monitor.storage.schema import METADATA
from monitor.storage.settings import MonitorSettings
from tests.dashboard.dashboard_seed import END, seed
from tests.monitor.storage.reader_roles import drop_roles, new_role_name, role_exists, url_as

pytestmark = pytest.mark.integration

ALL_TIME = TimeRange(END - timedelta(days=1), END + timedelta(days=1))
Query = Callable[[Session], Any]


@pytest.fixture
def roles(database: MonitorSettings) -> Iterator[list[str]]:
    """Names of the roles a test makes; dropped afterwards even when the test fails."""
    made: list[str] = []
    yield made
    drop_roles(database, made)


@pytest.fixture
def admin(database: MonitorSettings) -> Iterator[Engine]:
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def _role(roles: list[str], name: str | None = None) -> str:
    roles.append(name or new_role_name())
    return roles[-1]


def _dashboard_queries(alert_id: int) -> dict[str, Query]:
    """One call of every public function of the dashboard's read API, by name."""
    # A phrase: read through the pair index too (0011) where the plan uses the text index.
    flt = HeadlineFilter(ALL_TIME, topics=("Earnings",), text='"negative news"')
    hour = timedelta(hours=1)
    return {
        "latest_minute": lambda s: queries.latest_minute(session=s),
        "sentiment_series": lambda s: queries.sentiment_series(
            session=s, dimension="topic", time_range=ALL_TIME, bucket=hour
        ),
        "top_keys": lambda s: queries.top_keys(session=s, dimension="ticker", time_range=ALL_TIME),
        "documents_in": lambda s: queries.documents_in(session=s, time_range=ALL_TIME),
        "headlines": lambda s: headline_queries.headlines(session=s, flt=flt, limit=5),
        "count_headlines": lambda s: headline_queries.count_headlines(session=s, flt=flt),
        "ingest_series": lambda s: queries.ingest_series(
            session=s, time_range=ALL_TIME, bucket=hour
        ),
        "rejected_by_reason": lambda s: queries.rejected_by_reason(session=s, time_range=ALL_TIME),
        "model_usage": lambda s: queries.model_usage(session=s),
        "pipeline_status": lambda s: queries.pipeline_status(session=s),
        "history_start": lambda s: queries.history_start(session=s),
        "alerts": lambda s: alert_queries.alerts(session=s, time_range=ALL_TIME),
        "alert": lambda s: alert_queries.alert(session=s, alert_id=alert_id, with_headlines=True),
        "require_alert": lambda s: alert_queries.require_alert(session=s, alert_id=alert_id),
        "deliveries": lambda s: alert_queries.deliveries(session=s, alert_id=alert_id),
        "headlines_by_id": lambda s: alert_queries.headlines_by_id(
            session=s, ids=["doc-000-0", "doc-089-1"]
        ),
    }


def _public_functions(*modules: object) -> set[str]:
    return {
        name
        for module in modules
        for name, value in inspect.getmembers(module, inspect.isfunction)
        if not name.startswith("_") and value.__module__ == getattr(module, "__name__", "")
    }


def _answers(url: str, calls: dict[str, Query]) -> dict[str, Any]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            return {name: call(session) for name, call in calls.items()}
    finally:
        engine.dispose()


def _refused(conn: Connection, statement: Any) -> bool:
    """True when PostgreSQL refuses `statement` for lack of privilege (and it changed nothing)."""
    try:
        with conn.begin():
            conn.execute(statement)
    except ProgrammingError as e:
        return isinstance(e.orig, psycopg.errors.InsufficientPrivilege)
    return False


def test_reader_runs_every_dashboard_query_and_sees_what_the_writer_sees(
    database: MonitorSettings, roles: list[str], admin: Engine, search_plan: str
) -> None:
    """Whichever way a search reads (`search_plan`): the planner's estimate, the index keyed by
    day, the pair index and their SQL functions are the reader's to use too."""
    seed(database)
    role = _role(roles)
    done = grant_reader(admin, role)
    assert (done.role, done.created, done.password_set) == (role, True, False)
    assert done.tables == READER_TABLES and done.schemas == ("public",)
    with Session(admin) as s:
        alert_id = alert_queries.alerts(session=s, status="firing")[0].id
    calls = _dashboard_queries(alert_id)
    # A query function added to the read API must be added here, so it runs as the role too.
    assert set(calls) == _public_functions(queries, headline_queries, alert_queries)
    as_reader = _answers(url_as(database, role), calls)
    assert as_reader == _answers(database.sqlalchemy_url, calls)
    assert all(as_reader.values()), [name for name, value in as_reader.items() if not value]


def test_reader_can_change_nothing_and_read_nothing_else(
    database: MonitorSettings, roles: list[str], admin: Engine
) -> None:
    seed(database)
    role = _role(roles)
    grant_reader(admin, role)
    engine = create_engine(url_as(database, role), poolclass=NullPool)
    refused: dict[str, bool] = {}
    with engine.connect() as conn:
        for name in READER_TABLES:
            t = METADATA.tables[name]
            first = next(iter(t.columns))
            quoted = conn.dialect.identifier_preparer.quote_identifier(name)
            copy = insert(t).from_select([first.name], select(first))
            refused[f"insert {name}"] = _refused(conn, copy)
            refused[f"update {name}"] = _refused(conn, update(t).values({first.name: first}))
            refused[f"delete {name}"] = _refused(conn, delete(t))
            refused[f"truncate {name}"] = _refused(conn, text(f"truncate table {quoted}"))
        for name in sorted(set(OWN_TABLES) - set(READER_TABLES)):
            reading: Select[Any] = select(literal_column("1")).select_from(table(name))
            refused[f"select {name}"] = _refused(conn, reading)
        refused["nextval"] = _refused(conn, select(func.nextval("alerts_id_seq")))
        refused["create table"] = _refused(conn, text("create table intruder (i int)"))
        refused["create schema"] = _refused(conn, text("create schema intruder"))
    engine.dispose()
    assert [what for what, ok in refused.items() if not ok] == []
    assert len(refused) == 4 * len(READER_TABLES) + 2 + 3  # alert_cursors, alembic_version


def test_twice_is_harmless_and_takes_back_broader_rights(
    database: MonitorSettings, roles: list[str], admin: Engine
) -> None:
    role = _role(roles)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"create role {role} login createdb createrole")
        conn.exec_driver_sql(f"grant insert, update on documents, alert_cursors to {role}")
        conn.exec_driver_sql(f"grant select (rule) on alert_cursors to {role}")
        conn.exec_driver_sql(f"grant create on schema public to {role}")
    first = grant_reader(admin, role, password=SecretStr("first-pw"))
    second = grant_reader(admin, role)
    assert (first.created, second.created) == (False, False)
    with admin.connect() as conn:
        attributes = conn.execute(
            text(
                "select rolcreatedb, rolcreaterole, rolpassword from pg_authid where rolname = :r"
            ),
            {"r": role},
        ).one()
        privileges = conn.scalars(
            text(
                "select table_name || ' ' || privilege_type"
                " from information_schema.table_privileges where grantee = :r order by 1"
            ),
            {"r": role},
        ).all()
        column_grants = conn.scalar(
            text("select count(*) from information_schema.column_privileges where grantee = :r"),
            {"r": role},
        )
    assert attributes[:2] == (False, False)
    assert attributes[2].startswith("SCRAM-SHA-256$") and "first-pw" not in attributes[2]
    assert privileges == sorted(f"{t} SELECT" for t in READER_TABLES)
    # Column grants follow their table's: SELECT on every column of the five tables, nothing else.
    assert column_grants == sum(len(METADATA.tables[t].columns) for t in READER_TABLES)


def test_password_is_stored_as_a_verifier_and_kept_when_not_given(
    database: MonitorSettings, roles: list[str], admin: Engine
) -> None:
    role = _role(roles)
    grant_reader(admin, role, password=SecretStr("s3cret-Pa55"))

    def stored() -> str:
        with admin.connect() as conn:
            found = conn.scalar(
                text("select rolpassword from pg_authid where rolname = :r"), {"r": role}
            )
        return str(found)

    verifier = stored()
    assert verifier.startswith("SCRAM-SHA-256$") and "s3cret" not in verifier
    grant_reader(admin, role)
    assert stored() == verifier
    grant_reader(admin, role, password=SecretStr("another"))
    assert stored() != verifier


def test_a_name_needing_quotes_is_one_role_of_exactly_that_name(
    database: MonitorSettings, roles: list[str], admin: Engine
) -> None:
    seed(database)
    role = _role(roles, f'Rd "{new_role_name()[7:]}" 100%:x; drop table documents')
    grant_reader(admin, role)
    assert role_exists(database, role)
    as_reader = _answers(
        url_as(database, role), {"n": lambda s: queries.pipeline_status(session=s)}
    )
    assert as_reader["n"].documents > 0


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("pg_finsent_reader", 'role name "pg_finsent_reader" is reserved'),
        ("x" * 64, "is 64 bytes; PostgreSQL role names have at most 63"),
        ("", "the role name is empty"),
        (" reader", "surrounding spaces"),
        ("read\ner", "control characters"),
    ],
)
def test_a_bad_name_is_one_clear_line_and_no_role(
    database: MonitorSettings, roles: list[str], admin: Engine, name: str, says: str
) -> None:
    _role(roles, name)
    with pytest.raises(RoleGrantFailed) as raised:
        grant_reader(admin, name)
    message = str(raised.value)
    assert says in message and "\n" not in message
    assert not role_exists(database, name) and not role_exists(database, name[:63])


def test_a_failure_after_creating_the_role_leaves_no_role(
    database: MonitorSettings, roles: list[str], admin: Engine
) -> None:
    with admin.begin() as conn:  # this test's own database: PUBLIC may write one table
        conn.exec_driver_sql("grant insert on documents to public")
    role = _role(roles)
    with pytest.raises(RoleGrantFailed, match="could still use INSERT on documents through PUBLIC"):
        grant_reader(admin, role)
    assert not role_exists(database, role)


def test_refuses_roles_that_could_always_write(
    make_database: Callable[..., MonitorSettings], database: MonitorSettings, admin: Engine
) -> None:
    with pytest.raises(RoleGrantFailed, match="is a superuser"):
        grant_reader(admin, "postgres")
    owner = new_role_name()
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"create role {owner}")
            conn.exec_driver_sql(f"alter table alert_cursors owner to {owner}")
        with pytest.raises(RoleGrantFailed, match="owns .* table alert_cursors"):
            grant_reader(admin, owner)
    finally:
        drop_roles(database, [owner])
    empty = make_database(migrate=False)
    role = new_role_name()
    engine = create_engine(empty.sqlalchemy_url, poolclass=NullPool)
    with pytest.raises(RoleGrantFailed, match="no table documents: run `finsent db upgrade`"):
        grant_reader(engine, role)
    engine.dispose()
    assert not role_exists(empty, role)


def test_a_role_without_the_grant_is_told_to_run_grant_reader(
    database: MonitorSettings, admin: Engine, roles: list[str]
) -> None:
    role = _role(roles)
    with admin.begin() as conn:
        conn.execute(text(f'create role "{role}" login'))
    engine = read_engine(url_as(database, role))
    try:
        with pytest.raises(StoreUnreadable, match="finsent db grant-reader"):
            with read_session(engine) as session:
                queries.latest_minute(session=session)
    finally:
        engine.dispose()
