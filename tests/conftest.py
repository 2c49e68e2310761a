"""Fixtures every test may use: fresh migrated databases (``tests/databases.py``).

SQLite by default; ``DESKBOARD_TEST_DATABASE=postgresql`` runs the same tests on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import HOW_TO_ENABLE, Databases, backend, postgres_problem


def pytest_report_header() -> str:
    return f"database: {backend()}"


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    if backend() == "postgresql" and (problem := postgres_problem()) is not None:
        pytest.exit(f"{problem}; to run the tests on PostgreSQL, {HOW_TO_ENABLE}", returncode=3)
    made = Databases(tmp_path_factory.mktemp("databases"))
    yield made
    made.close()


@pytest.fixture
def database_url(databases: Databases) -> Iterator[str]:
    """The URL of a new database migrated to the newest schema, dropped after the test."""
    url = databases.fresh_url()
    yield url
    databases.drop(url)
