"""Fresh, migrated databases for tests, on SQLite (the default) or PostgreSQL.

``DESKBOARD_TEST_DATABASE=postgresql`` runs the suite against the PostgreSQL server at
``DESKBOARD_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``,
a database the test user may connect to and create databases from). Each test then gets a
database of its own, created by cloning a template migrated once per session (``CREATE
DATABASE ... TEMPLATE``) and dropped when the test ends. A worker thread clones the next
few databases and drops the used ones while tests run, so a test seldom waits. On SQLite
each database is a file in the test's temporary directory, copied from a migrated file.

``python -m tests.databases available`` exits 0 when that PostgreSQL server answers and 1,
with a message saying how to enable it, when it does not (the Makefile's PostgreSQL run).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import socket
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from storage.db import create_engine_for, migrate

WORKERS = 3  # threads cloning and dropping PostgreSQL databases: the time is I/O waits
BACKEND_VARIABLE = "DESKBOARD_TEST_DATABASE"
POSTGRES_URL_VARIABLE = "DESKBOARD_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOW_TO_ENABLE = (
    f"start PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres), or set "
    f"{POSTGRES_URL_VARIABLE} to a server where the test user may create databases; "
    f"then `make test` (or {BACKEND_VARIABLE}=postgresql .venv/bin/pytest) runs the suite on it"
)


NAME_PREFIX = "deskboard_test_"


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def backend() -> str:
    """``sqlite`` or ``postgresql``: which database this test run uses."""
    name = os.environ.get(BACKEND_VARIABLE, "sqlite").strip().lower() or "sqlite"
    if name not in ("sqlite", "postgresql"):
        raise ValueError(f"{BACKEND_VARIABLE}={name!r}: use sqlite or postgresql")
    return name


def on_postgresql() -> bool:
    return backend() == "postgresql"


def postgres_admin_url() -> URL:
    return make_url(os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL))


def postgres_problem(url: URL | None = None) -> str | None:
    """Why the PostgreSQL server cannot be used for tests, or None when it can."""
    url = url or postgres_admin_url()
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        where = url.render_as_string(hide_password=True)
        return f"PostgreSQL at {where} is not reachable ({reason})"
    finally:
        engine.dispose()
    return None


class Databases:
    """Makes databases for one test session; ``close`` drops whatever is left of them."""

    AHEAD = 4  # PostgreSQL clones kept ready per template

    def __init__(self, folder: Path, *, kind: str | None = None) -> None:
        self.kind = kind or backend()
        self._folder = folder
        self._created: set[str] = set()  # PostgreSQL database names, dropped by close()
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._migrated: str | None = None
        self._admin: Engine | None = None
        self._worker: ThreadPoolExecutor | None = None
        self._ready: dict[str, deque[Future[str]]] = {}  # clones made ahead, by template
        if self.kind == "postgresql":
            self._admin_url = postgres_admin_url()
            self._admin = create_engine(
                self._admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
            )
            self._prefix = f"{NAME_PREFIX}{_host_tag()}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            self._drop_stale()
            self._worker = ThreadPoolExecutor(
                max_workers=WORKERS, thread_name_prefix="test-databases"
            )

    # ---- what tests use ---------------------------------------------------------------------

    def fresh_url(self, *, template: str | None = None) -> str:
        """The URL of a new database: a copy of ``template`` (a URL from ``template_url``),
        or else of an empty database migrated to the newest schema."""
        template = template or self._migrated_template()
        if self._worker is None:
            return self._clone(template)
        ready = self._ready.setdefault(template, deque())
        while len(ready) < self.AHEAD + 1:
            ready.append(self._worker.submit(self._clone, template))
        return ready.popleft().result()

    def empty_url(self) -> str:
        """The URL of a new database without any table (for migration tests)."""
        if self.kind == "sqlite":
            return f"sqlite:///{self._new_path()}"
        name = self._new_name()
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self._url_of(name)

    def template_url(self, build: Callable[[Engine], None]) -> str:
        """A migrated database that ``build`` filled, to copy with ``fresh_url(template=...)``.
        Its engine is disposed before this returns: nothing may stay connected to a template."""
        url = self._clone(self._migrated_template())
        engine = create_engine_for(url)
        try:
            build(engine)
        finally:
            engine.dispose()
        return url

    def drop(self, url: str) -> None:
        """Remove a database made here (connections still open to it are ended)."""
        if self.kind == "sqlite":
            return  # a file in a temporary directory: pytest removes it
        name = make_url(url).database
        if name is not None and self._worker is not None:
            self._worker.submit(self._drop, name)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_futures=True)
        for name in list(self._created):
            self._drop(name)
        if self._admin is not None:
            self._admin.dispose()

    # ---- the machinery ----------------------------------------------------------------------

    def _migrated_template(self) -> str:
        if self._migrated is None:
            url = self.empty_url()
            engine = create_engine_for(url)
            try:
                migrate(engine)
            finally:
                engine.dispose()
            self._migrated = url
        return self._migrated

    def _clone(self, template: str) -> str:
        if self.kind == "sqlite":
            path = self._new_path()
            source = make_url(template).database
            assert source is not None
            shutil.copyfile(source, path)
            return f"sqlite:///{path}"
        name = self._new_name()
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"')
        return self._url_of(name)

    def _new_path(self) -> Path:
        path = self._folder / f"db-{uuid.uuid4().hex[:12]}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _new_name(self) -> str:
        name = f"{self._prefix}_{next(self._numbers)}"
        with self._lock:
            self._created.add(name)
        return name

    def _drop_stale(self) -> None:
        """Drop what runs on this machine that were killed left behind (their pid is gone)."""
        assert self._admin is not None
        mine = f"{NAME_PREFIX}{_host_tag()}_"
        with self._admin.connect() as connection:
            names = connection.exec_driver_sql(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %(prefix)s)",
                {"prefix": mine},
            ).scalars()
            stale = [n for n in names if not _alive(int(n[len(mine) :].split("_", 1)[0]))]
        for name in stale:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _drop(self, name: str) -> None:
        with self._lock:
            if name not in self._created:
                return
            self._created.discard(name)
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _url_of(self, name: str) -> str:
        url = self._admin_url.set(database=name)
        return url.render_as_string(hide_password=False)

    def _execute(self, sql: str) -> None:
        assert self._admin is not None
        with self._admin.connect() as connection:
            connection.exec_driver_sql(sql)


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """Skip a test on the PostgreSQL run: it is about SQLite itself (``reason`` says how)."""
    return pytest.mark.skipif(on_postgresql(), reason=f"SQLite only: {reason}")


def postgresql_only(reason: str) -> pytest.MarkDecorator:
    """Skip a test on the SQLite run: it is about PostgreSQL (``reason`` says how)."""
    return pytest.mark.skipif(not on_postgresql(), reason=f"PostgreSQL only: {reason}")


def main(argv: list[str]) -> int:
    if argv != ["available"]:
        print("usage: python -m tests.databases available", file=sys.stderr)
        return 2
    problem = postgres_problem()
    if problem is not None:
        print(f"SKIPPED: the PostgreSQL test run. {problem}.", file=sys.stderr)
        print(f"To enable it: {HOW_TO_ENABLE}.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
