"""Which of several processes sharing one database runs the scheduler.

On PostgreSQL the leader is whoever holds a session-level advisory lock
(``pg_try_advisory_lock``) taken on a connection of its own, opened for this alone and kept
for the process's life. PostgreSQL releases the lock when that session ends: the process
exits or is killed (the socket closes), or its host vanishes (the server-side TCP keepalives
set on the session notice a silent peer within about 30 seconds). Another process's next
``poll`` then takes it. ``poll`` also checks a held lock on its own connection, so a leader
whose connection dropped learns that it no longer leads, even before anyone else takes over.

SQLite is one process on one machine: it always leads, and nothing is locked.
"""

from __future__ import annotations

import contextlib
import logging
import os

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

SCHEDULER_LOCK = 0x7363686564  # "sched"; the migration lock (storage.db) is another key
APPLICATION_NAME = "deskboard-scheduler"

# libpq: notice a dead server within ~25 s; the session settings: the server notices a dead
# client as fast, and never ends the idle session on its own.
_CLIENT_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "connect_timeout": 10,
}
_SESSION_SETTINGS = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
    "SET idle_session_timeout = 0",
    "SET idle_in_transaction_session_timeout = 0",
)
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
# A bigint advisory key is shown in pg_locks as classid (high 32 bits) and objid (low 32).
_STILL_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 1"
    " AND classid::bigint = (:key >> 32) AND objid::bigint = (:key & 4294967295)"
)


class Leadership:
    """This process's claim to run the scheduler; ``poll`` it every few seconds.

    ``name`` becomes the lock session's ``application_name`` (by default
    ``deskboard-scheduler <pid>``), so ``pg_stat_activity`` shows which process leads.
    """

    def __init__(self, engine: Engine, *, key: int = SCHEDULER_LOCK, name: str | None = None):
        self._shared = engine.dialect.name == "postgresql"
        self._key = key
        self._name = name or f"{APPLICATION_NAME} {os.getpid()}"
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        if self._shared:
            args = {**_CLIENT_KEEPALIVES, "application_name": self._name}
            self._engine = create_engine(
                engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args=args
            )

    @property
    def shared(self) -> bool:
        """True when other processes may compete (PostgreSQL), False on SQLite."""
        return self._shared

    @property
    def leading(self) -> bool:
        """Whether the last ``poll`` found this process leading."""
        return not self._shared or self._connection is not None

    def poll(self) -> bool:
        """Whether this process leads now: it still holds the lock on a live connection, or it
        took the lock just now. Never raises: an unreachable database means not leading."""
        if not self._shared:
            return True
        if self._connection is not None:
            if self._still_held(self._connection):
                return True
            log.warning("scheduler lock lost: its database connection no longer answers")
            self._close()
        return self._try_take()

    def release(self) -> None:
        """Give the lock up (at shutdown), so another process takes over at its next poll."""
        self._close()
        if self._engine is not None:
            self._engine.dispose()

    def _still_held(self, connection: Connection) -> bool:
        try:
            held = connection.execute(_STILL_HELD, {"key": self._key}).scalar_one()
        except DBAPIError:
            return False
        return bool(held)

    def _try_take(self) -> bool:
        assert self._engine is not None
        connection: Connection | None = None
        try:
            connection = self._engine.connect()
            self._configure(connection)
            taken = bool(connection.execute(_TRY_LOCK, {"key": self._key}).scalar_one())
        except DBAPIError as exc:
            log.warning("scheduler lock: the database is not reachable (%s)", type(exc).__name__)
            taken = False
        if taken:
            self._connection = connection
        elif connection is not None:
            connection.close()
        return taken

    @staticmethod
    def _configure(connection: Connection) -> None:
        for setting in _SESSION_SETTINGS:
            try:
                connection.exec_driver_sql(setting)
            except ProgrammingError:  # idle_session_timeout is PostgreSQL 14's; 13 lacks it
                log.debug("scheduler lock session: %s not supported", setting)

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(DBAPIError):
            connection.close()  # ends the session: PostgreSQL releases the lock
