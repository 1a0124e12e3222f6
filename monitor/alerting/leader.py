"""Leader election through a PostgreSQL advisory lock: one evaluator acts, the others stand by."""

from __future__ import annotations

import logging
import zlib

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable 32-bit advisory-lock key for a name."""
    return zlib.crc32(name.encode())


class LeaderLock:
    """A session-level advisory lock held on a dedicated connection while this process leads.

    If that connection drops, the server releases the lock and another process can take over;
    `held()` notices and tries to take it again.
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._key = lock_key(name)
        self._name = name
        self._conn: Connection | None = None

    def held(self) -> bool:
        """True when this process leads (taking the lock if it is free)."""
        if self._conn is not None:
            try:
                self._conn.execute(select(1))
                return True
            except DBAPIError:
                log.warning("lost the connection holding the %s lock", self._name)
                self._drop()
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.scalar(select(func.pg_try_advisory_lock(self._key))))
        except DBAPIError:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        log.info("leading: took the %s lock", self._name)
        self._conn = conn
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(select(func.pg_advisory_unlock(self._key)))
        except DBAPIError:
            pass  # the connection is gone, and the lock with it
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except DBAPIError:
                log.debug("closing a broken lock connection failed", exc_info=True)
        self._conn = None
