"""The program in the database (``bot.core.program``): every process follows a change made by
another (two ``LiveConfig``s on one database stand for two processes), a stored program that
cannot apply under a process's own settings leaves that process on the previous one, and new
contests are announced once when they start, never those read from deskboard.toml."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.config import DeskboardConfig, parse_config
from bot.core.posting import queue_announcements, queue_winners
from bot.core.program import Actor, LiveConfig, adopt_file_program, replace_program
from storage import outbox, program
from storage.db import create_engine_for, migrate, session_scope
from tests.databases import postgresql_only

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday 09:00 in Chicago
CHAT = Actor("Ines Director (slack UADMIN)", "slack")
BASE = {
    "timezone": "America/Chicago",
    "contests": [
        {"name": "Most resolved", "metric": "resolved", "period": "monthly", "channel": "CWINS"}
    ],
}


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def with_contests(config: DeskboardConfig, *contests: dict[str, object]) -> DeskboardConfig:
    doc = config.program_doc()
    doc["contests"] = [*doc.get("contests", []), *contests]
    return config.with_program(doc)


def live(engine: Engine, config: DeskboardConfig, ticker: Ticker) -> LiveConfig:
    adoption = adopt_file_program(engine, config, now=NOW)
    return LiveConfig(
        engine, config, config=adoption.config, revision=adoption.revision, monotonic=ticker
    )


def test_a_change_made_by_one_process_applies_in_the_other_within_a_second(engine):
    file_config = parse_config(BASE)
    ticker = Ticker()
    first, second = live(engine, file_config, ticker), live(engine, file_config, ticker)
    before = second.revision
    wanted = with_contests(
        first.current(), {"name": "Sprint", "metric": "resolved", "period": "weekly"}
    )
    replace_program(engine, wanted, actor=CHAT, now=NOW)
    assert [c.name for c in second.current().contest_list()] == ["Most resolved"]  # cached
    ticker.now += 1.0
    assert [c.name for c in second.current().contest_list()] == ["Most resolved", "Sprint"]
    assert second.revision > before
    assert not second.refresh()  # nothing new since


def test_a_program_that_cannot_apply_here_leaves_the_previous_one(engine, caplog):
    ticker = Ticker()
    notes_off = parse_config({**BASE, "connectwise": {"sync_notes": False}})
    elsewhere = live(engine, parse_config(BASE), ticker)
    here = live(engine, notes_off, ticker)
    wanted = with_contests(
        elsewhere.current(), {"name": "Follow-ups", "metric": "follow_up_pct", "period": "monthly"}
    )
    replace_program(engine, wanted, actor=CHAT, now=NOW)
    ticker.now += 1.0
    with caplog.at_level(logging.ERROR):
        assert [c.name for c in here.current().contest_list()] == ["Most resolved"]
    assert "follow_up_pct is counted from ticket notes" in caplog.text


def announcements(engine: Engine, config: DeskboardConfig, now: datetime) -> int:
    return queue_announcements(engine, config=config, now=now, platforms=("slack",))


def test_new_contests_are_announced_once_when_they_start_not_those_the_program_began_with(
    engine,
):
    file_config = parse_config(BASE)
    adopt_file_program(engine, file_config, now=NOW)
    assert announcements(engine, file_config, NOW) == 0  # what the database started with
    later = with_contests(
        file_config,
        {"name": "Added later", "metric": "resolved", "period": "daily", "channel": "CWINS"},
    )
    adopt_file_program(engine, later, now=NOW)  # the next start, with a contest added to the file
    assert announcements(engine, later, NOW) == 1
    wanted = with_contests(
        later,
        {"name": "Weekly", "metric": "resolved", "period": "weekly", "channel": "CWINS"},
        {
            "name": "Holiday cup",
            "metric": "resolved",
            "start": date(2026, 12, 14),
            "end": date(2026, 12, 24),
            "channel": "CWINS",
            "prize": "A day off",
        },
    )
    replace_program(engine, wanted, actor=CHAT, now=NOW)
    assert announcements(engine, wanted, NOW) == 1  # Weekly, at once
    assert announcements(engine, wanted, NOW + timedelta(hours=1)) == 0
    first_day = datetime(2026, 12, 14, 6, 0, tzinfo=UTC)  # 00:00 in Chicago
    assert announcements(engine, wanted, first_day - timedelta(minutes=1)) == 0
    assert announcements(engine, wanted, first_day) == 1  # Holiday cup, on its first day
    assert announcements(engine, wanted, first_day + timedelta(hours=2)) == 0
    with session_scope(engine) as session:
        item = outbox.due(session, platform="slack", now=first_day, limit=10)
    texts = [i.message["text"] for i in item]
    assert sorted(texts) == [
        "New contest: Added later",
        "New contest: Holiday cup",
        "New contest: Weekly",
    ]


def test_winners_keep_the_rules_they_were_decided_under(engine):
    cup = {
        "name": "November cup",
        "metric": "resolved",
        "start": date(2026, 11, 2),
        "end": date(2026, 11, 30),
        "goal": 10,
        "channel": "CWINS",
    }
    config = with_contests(parse_config(BASE), cup)
    replace_program(engine, config, actor=CHAT, now=NOW)
    # November's winners: the cup's, and the monthly contest's for November
    assert queue_winners(engine, config=config, now=NOW, platforms=("slack",)) == 2
    changed = with_contests(parse_config(BASE), {**cup, "goal": 3, "prize": "Lunch"})
    replace_program(engine, changed, actor=CHAT, now=NOW)
    assert queue_winners(engine, config=changed, now=NOW, platforms=("slack",)) == 0
    with session_scope(engine) as session:
        (result,) = program.contest_results(session, contest="November cup")
    assert result.rules["goal"] == 10.0
    assert "prize" not in result.rules
    assert result.rules["rules"].startswith("Top 3 win if they reach 10")
    assert result.window_end == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@postgresql_only("processes share a database only on PostgreSQL (SQLite: one process)")
def test_processes_starting_together_store_the_files_program_once(engine):
    config = with_contests(
        parse_config(BASE),
        *({"name": f"C{i}", "metric": "resolved", "period": "weekly"} for i in range(20)),
    )
    barrier = threading.Barrier(4)
    results: list[object] = []

    def start() -> None:
        barrier.wait()
        try:
            results.append(adopt_file_program(engine, config, now=NOW).config.program_doc())
        except Exception as exc:  # pragma: no cover - the failure this test is about
            results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [config.program_doc()] * 4
    with session_scope(engine) as session:
        assert len(program.list_changes(session, limit=100)) == 21


def test_a_contest_ended_before_its_last_periods_winners_were_posted_still_gets_them(engine):
    ended = datetime(2026, 12, 1, 6, 2, tzinfo=UTC)  # 00:02 in Chicago, before the 00:05 job
    monthly = {**BASE["contests"][0], "ended": ended.isoformat()}  # type: ignore[index]
    config = parse_config({**BASE, "contests": [monthly]})
    replace_program(engine, config, actor=CHAT, now=ended)
    assert (
        queue_winners(engine, config=config, now=ended + timedelta(minutes=1), platforms=("slack",))
        == 2
    )
    with session_scope(engine) as session:
        windows = [
            r.window_start for r in program.contest_results(session, contest="Most resolved")
        ]
    assert windows == [  # newest first: the two minutes of December, then November
        datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
    ]
    assert (
        queue_winners(engine, config=config, now=ended + timedelta(days=1), platforms=("slack",))
        == 0
    )
    assert (
        queue_winners(engine, config=config, now=ended + timedelta(days=8), platforms=("slack",))
        == 0
    )
