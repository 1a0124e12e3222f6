"""Loading helpers for generated benchmark databases: timed steps, loads without indexes, and
work spread over threads."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text


@contextmanager
def step(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    print(f"  {name:<44}{time.perf_counter() - started:>9.1f} s", flush=True)


@contextmanager
def without_indexes(engine: Engine, table: str, *, primary_key: bool = False) -> Iterator[None]:
    """Drop the table's secondary indexes (and with `primary_key` its primary key) while loading
    it, and build them again after."""
    query = text(
        "select indexname, indexdef from pg_indexes where tablename = :t "
        "and indexname not in (select conname from pg_constraint)"
    )
    keys = text(
        "select conname, pg_get_constraintdef(oid) from pg_constraint "
        "where conrelid = cast(:t as regclass) and contype = 'p'"
    )
    with engine.begin() as conn:
        indexes = conn.execute(query, {"t": table}).all()
        for name, _ in indexes:
            conn.execute(text(f'drop index "{name}"'))
        constraints = conn.execute(keys, {"t": table}).all() if primary_key else []
        for name, _ in constraints:
            conn.execute(text(f'alter table "{table}" drop constraint "{name}"'))
    yield
    with step(f"{table}: build {len(indexes) + len(constraints)} indexes"), engine.begin() as conn:
        conn.execute(text("set local maintenance_work_mem = '1GB'"))
        for name, definition in constraints:
            conn.execute(text(f'alter table "{table}" add constraint "{name}" {definition}'))
        for _, definition in indexes:
            conn.execute(text(definition))


def parallel(jobs: int, work: Callable[[Any], object], items: Sequence[Any]) -> None:
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        for _ in pool.map(work, items):
            pass
