"""Fixtures for storage tests: a migrated file database and derivation parameters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from metrics.calendar import BusinessCalendar, BusinessHours
from metrics.categories import Category
from metrics.derive import DeriveParams
from metrics.waiting import WaitingRule
from storage.db import create_engine_for, migrate

CHICAGO_HOURS = BusinessHours(timezone="America/Chicago")  # Mon-Fri 08:00-17:00
EMERGENCY = Category("emergency", priority=("P1*",))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'deskboard.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def params() -> DeriveParams:
    return DeriveParams(
        calendar=BusinessCalendar(CHICAGO_HOURS),
        catchall_company="Catchall",
        boards=("Service Desk",),
        categories=(EMERGENCY,),
    )


@pytest.fixture
def rule() -> WaitingRule:
    return WaitingRule(patterns=("Waiting*",))
