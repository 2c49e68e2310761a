"""Standings: every metric of docs/metrics.md for 200 technicians over 1,000,000 stored
tickets, over a one-month window (November 2025, across the DST change) and a one-year
window (2025).

- Deskboard: ``storage.standings.member_values`` for every metric (business time basis),
  the SQL aggregates built from ``metrics.definitions``, read into ``MemberValues``.
- Baseline: the same numbers written by hand as plain SQL on a ``sqlite3`` connection to the
  same file: one ``GROUP BY resolver_key`` over the window's resolved tickets (every R(m)
  metric at once), plus the responder (response time), owner (backlog) and reopen parts,
  and the few divisions in Python.

The goal is Deskboard at most half the hand-written SQL's time, for the year as for the month
(issue 17: a year should cost about what a month does); each time is the fastest of a few
runs on a warm cache. ``numbers_agree``: both give the same members and, for every member
and metric, the same value (counts equal, rates and means equal to 1e-9 relative, nulls
where the other has nulls).
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench.core import CaseResult, Figure, Size, best_of
from bench.data import CHICAGO, CONFIG, DataSpec, cached_database, write_database
from bench.progress import step
from metrics.definitions import METRICS, MetricRef, TimeBasis
from metrics.values import MemberValues
from metrics.windows import Window, window_for_dates
from storage import rollup_marks, rollups, standings
from storage.db import create_engine_for, session_scope

SEED = 11
SPECS: dict[str, DataSpec] = {
    "small": DataSpec(seed=SEED, tickets=5_000, members=20),
    "full": DataSpec(seed=SEED, tickets=1_000_000, members=200),
}
REPEATS = {"small": 3, "full": 5}
GOAL = 0.5
REL_TOLERANCE = 1e-9
SYNCED = {"small": 100, "full": 1_000}  # tickets a sync rewrites before the "after a sync" read

Values = dict[str, dict[str, float | None]]  # member -> metric key -> value

RESOLVED_SQL = """
SELECT resolver_key,
       COUNT(*),
       SUM(categorized), SUM(has_type), SUM(has_subtype), SUM(has_item),
       SUM(no_agreement), SUM(catchall),
       AVG(resolution_min_business),
       SUM(escalated), SUM(without_escalation), SUM(judgeable),
       AVG(actual_hours),
       SUM(first_contact),
       AVG(responses), AVG(responses_to_close), SUM(followed_up), SUM(closed_with_notes)
FROM tickets
WHERE in_scope = 1 AND resolver_key IS NOT NULL AND resolved_at >= ? AND resolved_at < ?
GROUP BY resolver_key
"""
RESPONDED_SQL = """
SELECT responder_key, AVG(response_min_business)
FROM tickets
WHERE in_scope = 1 AND responder_key IS NOT NULL AND responded_at >= ? AND responded_at < ?
GROUP BY responder_key
"""
BACKLOG_SQL = """
SELECT owner_key, COUNT(*)
FROM tickets
WHERE in_scope = 1 AND is_open = 1 AND owner_key IS NOT NULL
GROUP BY owner_key
"""
REPLIES_SQL = """
SELECT n.member_key, AVG(n.reply_min_business)
FROM ticket_notes AS n JOIN tickets AS t ON t.id = n.ticket_id
WHERE t.in_scope = 1 AND n.member_key IS NOT NULL AND n.reply_since IS NOT NULL
  AND n.created_at >= ? AND n.created_at < ?
GROUP BY n.member_key
"""
REOPENED_SQL = """
SELECT s.resolver_key, COUNT(DISTINCT s.ticket_id)
FROM status_changes AS s JOIN tickets AS t ON t.id = s.ticket_id
WHERE s.reopened = 1 AND s.resolver_key IS NOT NULL AND s.at >= ? AND s.at < ?
  AND t.in_scope = 1
GROUP BY s.resolver_key
"""


def _stamp(moment: datetime) -> str:
    """A window end as SQLite holds timestamps: naive UTC text with microseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def baseline_values(connection: sqlite3.Connection, window: Window, working_days: int) -> Values:
    """Every metric by hand-written SQL, keyed like ``member_values`` (member, metric key)."""
    bounds = (_stamp(window.start), _stamp(window.end))
    resolved = {row[0]: row for row in connection.execute(RESOLVED_SQL, bounds)}
    responded = dict(connection.execute(RESPONDED_SQL, bounds).fetchall())
    backlog = dict(connection.execute(BACKLOG_SQL).fetchall())
    reopened = dict(connection.execute(REOPENED_SQL, bounds).fetchall())
    replies = dict(connection.execute(REPLIES_SQL, bounds).fetchall())
    values: Values = {}
    for member in sorted(set(resolved) | set(responded)):
        row = resolved.get(member)
        (
            _,
            count,
            categorized,
            has_type,
            has_subtype,
            has_item,
            no_agreement,
            catchall,
            resolution_minutes,
            escalated,
            unescalated,
            judgeable,
            handle_hours,
            first_contact,
            responses,
            responses_to_close,
            followed_up,
            closed_with_notes,
        ) = (
            row
            if row is not None
            else (member, 0, 0, 0, 0, 0, 0, 0, None, 0, 0, 0, None, 0, None, None, 0, 0)
        )
        response_minutes = responded.get(member)
        values[member] = {
            "categorized_pct": _pct(categorized, count),
            "type_categorized": has_type,
            "subtype_categorized": has_subtype,
            "item_categorized": has_item,
            "no_agreement_resolved": no_agreement,
            "catchall_resolved": catchall,
            "resolved": count,
            "avg_resolution_hours": None if resolution_minutes is None else resolution_minutes / 60,
            "avg_response_minutes": response_minutes,
            "escalated_resolved": escalated,
            "resolved_without_escalation": unescalated,
            "pct_without_escalation": _pct(unescalated, judgeable),
            "reopened": reopened.get(member, 0),
            "avg_handle_hours": handle_hours,
            "tickets_per_day": None if working_days == 0 else count / working_days,
            "backlog": backlog.get(member, 0),
            "first_contact_pct": _pct(first_contact or 0, count),
            "avg_reply_minutes": replies.get(member),
            "responses_per_ticket": responses,
            "responses_to_close": responses_to_close,
            "follow_up_pct": _pct(followed_up or 0, closed_with_notes or 0),
        }
    return values


def deskboard_values(engine: Engine, window: Window, working_days: int) -> dict[str, MemberValues]:
    """As the bot reads them: the day totals brought up to date, then the standings."""
    rollups.refresh_for(engine, window)
    with session_scope(engine) as session:
        return standings.member_values(
            session,
            window=window,
            refs=[MetricRef(metric) for metric in METRICS],
            basis=TimeBasis.BUSINESS,
            working_days=working_days,
            category_bits={},
        )


def rebuild_seconds(engine: Engine) -> float:
    """The day totals built again from every ticket, as after an upgrade, a new time zone or
    new settings."""
    with session_scope(engine) as session:
        rollup_marks.forget_totals(session)
    began = time.perf_counter()
    rollups.refresh(engine, tz=CHICAGO)
    return time.perf_counter() - began


def rewrite_recent(connection: sqlite3.Connection, engine: Engine, count: int) -> None:
    """What a sync's store step does to the day totals: the ``count`` most recently updated
    tickets rewritten, each with a derived value changed (``escalated``) and put back, so
    the data stays what it was, and their resolution dates marked, as the store step marks
    them (``storage.rollup_marks``)."""
    ids = [
        (row[0],)
        for row in connection.execute(
            "SELECT id FROM tickets ORDER BY updated_at DESC LIMIT ?", (count,)
        )
    ]
    flip = "UPDATE tickets SET escalated = 1 - escalated WHERE id = ?"
    connection.executemany(flip, ids)
    connection.executemany(flip, ids)
    connection.commit()
    with session_scope(engine) as session:
        rollup_marks.mark_resolutions(session, [row[0] for row in ids])


def _same(mine: Any, theirs: Any) -> bool:
    if mine is None or theirs is None:
        return mine is None and theirs is None
    return math.isclose(mine, theirs, rel_tol=REL_TOLERANCE, abs_tol=0.0)


def disagreements(deskboard: dict[str, MemberValues], baseline: Values) -> list[str]:
    """Where the two differ, as "member/metric: deskboard vs baseline" (empty: they agree)."""
    problems = [f"members only in Deskboard: {sorted(set(deskboard) - set(baseline))}"]
    problems += [f"members only in the baseline: {sorted(set(baseline) - set(deskboard))}"]
    problems = [p for p in problems if not p.endswith("[]")]
    for member in sorted(set(deskboard) & set(baseline)):
        mine, theirs = deskboard[member], baseline[member]
        if mine.resolved.get(None) != theirs["resolved"]:
            problems.append(f"{member}/|R|: {mine.resolved.get(None)} vs {theirs['resolved']}")
        for key, expected in theirs.items():
            if not _same(mine.values.get(key), expected):
                problems.append(f"{member}/{key}: {mine.values.get(key)!r} vs {expected!r}")
    return problems


def _windows() -> dict[str, Window]:
    return {
        "month": window_for_dates(
            datetime(2025, 11, 1).date(), datetime(2025, 12, 1).date(), CHICAGO
        ),
        "year": window_for_dates(datetime(2025, 1, 1).date(), datetime(2026, 1, 1).date(), CHICAGO),
    }


def measure(path: Path, spec: DataSpec, size: Size) -> CaseResult:
    calendar = CONFIG.calendar()
    engine = create_engine_for(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    figures: list[Figure] = []
    details: dict[str, Any] = {"tickets": spec.tickets, "technicians": spec.members}
    agree = True
    try:
        tickets_total = connection.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        details["tickets_stored"] = tickets_total
        step("standings: the day totals built from every ticket")
        details["day_totals_build_s"] = round(rebuild_seconds(engine), 2)
        for name, window in _windows().items():
            days = calendar.working_days(window.start, window.end)

            def mine(window: Window = window, days: int = days) -> dict[str, MemberValues]:
                return deskboard_values(engine, window, days)

            def theirs(window: Window = window, days: int = days) -> Values:
                return baseline_values(connection, window, days)

            step(f"standings: {name} window, best of {REPEATS[size]} each")
            runs: list[tuple[str, Callable[[], Any]]] = [("deskboard", mine), ("baseline", theirs)]
            for _, work in runs:
                work()  # warm the page cache and SQLAlchemy's statement cache
            deskboard_seconds, deskboard = best_of(REPEATS[size], mine)
            baseline_seconds, baseline = best_of(REPEATS[size], theirs)
            problems = disagreements(deskboard, baseline)
            agree = agree and not problems
            resolved_in_window = sum(v["resolved"] or 0 for v in baseline.values())
            details[name] = {
                "window": window.label(),
                "working_days": days,
                "members": len(baseline),
                "resolved_in_window": resolved_in_window,
                "disagreements": problems[:20],
            }
            figures.append(
                Figure(
                    f"{name}: {len(METRICS)} metrics × {len(baseline)} members, "
                    f"{tickets_total:,} tickets",
                    deskboard_seconds * 1000,
                    baseline_seconds * 1000,
                    "ms",
                    f"≤ {GOAL:g}× baseline",
                    deskboard_seconds <= GOAL * baseline_seconds,
                )
            )
            if name != "year":
                continue
            synced = SYNCED[size]
            step(f"standings: year, the first read after a sync rewrote {synced:,} tickets")
            after_sync = []
            for _ in range(REPEATS[size]):
                rewrite_recent(connection, engine, synced)
                seconds, deskboard = best_of(1, mine)
                after_sync.append(seconds)
            problems = disagreements(deskboard, baseline)
            agree = agree and not problems
            details["year_after_sync_disagreements"] = problems[:20]
            figures.append(
                Figure(
                    f"year, first read after a sync rewrote {synced:,} tickets (refresh included)",
                    min(after_sync) * 1000,
                    baseline_seconds * 1000,
                    "ms",
                    f"≤ {GOAL:g}× baseline",
                    min(after_sync) <= GOAL * baseline_seconds,
                )
            )
    finally:
        connection.close()
        engine.dispose()
    return CaseResult("standings", size, figures, numbers_agree=agree, details=details)


def run(size: Size) -> CaseResult:
    spec = SPECS[size]
    if size == "full":
        return measure(cached_database(spec), spec, size)
    with tempfile.TemporaryDirectory(prefix="deskboard-bench-standings-") as folder:
        path = Path(folder) / spec.file_name
        write_database(path, spec)
        return measure(path, spec, size)
