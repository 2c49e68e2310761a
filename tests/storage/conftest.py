"""Fixtures for storage tests: a migrated file database and derivation parameters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from metrics.calendar import BusinessCalendar, BusinessHours
from metrics.categories import Category
from metrics.derive import DeriveParams
from metrics.waiting import WaitingRule
from storage.db import create_engine_for

CHICAGO_HOURS = BusinessHours(timezone="America/Chicago")  # Mon-Fri 08:00-17:00
EMERGENCY = Category("emergency", priority=("P1*",))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url)
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
