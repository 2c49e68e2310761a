"""A technician who left (ConnectWise ``inactiveFlag``) drops out of the standings and the
metrics table, unless they resolved tickets in the window: their last month is kept."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import parse_config
from bot.core.reports import metrics_from_database, standings_for_window
from bot.core.sync import store_records
from metrics.records import Member, TicketRecord
from metrics.waiting import WaitingRule
from metrics.windows import window_for_dates
from storage import repo
from storage.db import create_engine_for, session_scope

CONFIG = parse_config(
    {"contests": [{"name": "Answers", "metric": "avg_response_minutes", "period": "monthly",
                   "min_resolved": 0}]}
)  # fmt: skip


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_inactive_members_show_only_with_resolutions_in_the_window(database_url):
    engine = create_engine_for(database_url)
    tickets = [
        # lee left but resolved 1 this month; max left and only responded to 2
        TicketRecord(id=1, resolver="lee", responder="lee", entered_at=at(2, 9),
                     responded_at=at(2, 10), resolved_at=at(2), updated_at=at(2), closed=True),
        TicketRecord(id=2, responder="max", entered_at=at(3, 9), responded_at=at(3, 10),
                     updated_at=at(3)),
        TicketRecord(id=3, responder="ann", entered_at=at(3, 9), responded_at=at(3, 11),
                     updated_at=at(3)),
    ]  # fmt: skip
    store_records(
        engine, records=tickets, params=CONFIG.derive_params(), waiting_rule=WaitingRule()
    )
    with session_scope(engine) as session:
        repo.upsert_members(
            session,
            members=[
                Member(1, "lee", inactive=True),
                Member(2, "max", inactive=True),
                Member(3, "ann"),
            ],
        )
    window = window_for_dates(datetime(2026, 11, 1).date(), datetime(2026, 12, 1).date(), CONFIG.tz)
    report = metrics_from_database(
        engine, config=CONFIG, window=window, basis=CONFIG.metrics.time_basis
    )
    assert sorted(report.members) == ["ann", "lee"]
    (contest,) = CONFIG.contest_list()
    standings = standings_for_window(engine, config=CONFIG, contest=contest, window=window)
    assert sorted(s.member for s in standings.ranked + standings.not_qualified) == ["ann", "lee"]
    engine.dispose()
