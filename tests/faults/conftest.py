"""The fault-free reference run, once per session, and a fresh world for each test."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from psa.connectwise.simulator import SimulatorServer
from tests.bot.slack.fake_slack import FakeSlack
from tests.databases import Databases
from tests.faults.world import ADMIN, DRAIN, STEPS, World, delivered, make_msp


@dataclass(frozen=True)
class Reference:
    checksum: tuple[int, str]
    delivered: Counter[str]


@contextmanager
def world_at(database_url: str, folder: Path) -> Iterator[World]:
    with (
        SimulatorServer(make_msp(), clock=STEPS[0]) as simulator,
        FakeSlack(users=[ADMIN]) as slack,
    ):
        world = World(database_url, folder, simulator, slack)
        world.at(STEPS[0])
        try:
            yield world
        finally:
            world.close()


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Reference:
    """Every step once and the drain, with no fault anywhere."""
    with world_at(databases.fresh_url(), tmp_path_factory.mktemp("reference")) as world:
        for moment in [*STEPS, DRAIN]:
            world.at(moment)
            world.cycle()
        reference = Reference(world.checksum(), delivered(world.slack))
    # Something to lose: a backfill of several pages, and kudos at several steps.
    assert reference.checksum[0] > 100
    assert len(reference.delivered) >= 5
    assert set(reference.delivered.values()) == {1}
    return reference


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with world_at(database_url, tmp_path) as world:
        yield world
