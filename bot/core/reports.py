"""Metric tables and contest standings, computed the same way for every caller.

``deskboard metrics --tickets FILE`` loads the file into an in-memory store and runs the same
SQL aggregates as the database path, so a number never depends on where the tickets came from.
The file's tickets are read by the PSA adapter's ``TicketFileReader`` (``psa.port``), which
the composition root hands in: for ConnectWise, ``psa.connectwise.mapping.map_tickets``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.derived import derive_fingerprint, ensure_derived
from metrics.calendar import BusinessCalendar
from metrics.categories import category_bits
from metrics.contests import Contest
from metrics.definitions import MetricDef, MetricRef, Needs, TimeBasis, supported_metrics
from metrics.notes import TicketNote
from metrics.ratings import Credit, Rating
from metrics.standings import Standings, compute_standings
from metrics.values import MemberValues
from metrics.waiting import WaitingRule
from metrics.windows import Window
from psa.port import NotesFileReader, SkippedTicket, TicketFileReader
from storage import repo, rollups, standings
from storage.db import create_engine_for, migrate, session_scope
from storage.ratings import upsert_ratings


class TicketFileError(Exception):
    """A --tickets file that is not a JSON array of ticket objects."""


@dataclass(frozen=True, slots=True)
class MetricsReport:
    window: Window
    timezone: str
    basis: TimeBasis
    metrics: tuple[MetricDef, ...]
    members: dict[str, MemberValues]
    data_as_of: datetime | None
    skipped: tuple[SkippedTicket, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The object of docs/metrics.md, "JSON output"; rates and averages are not rounded."""
        return {
            "from": self.window.start.isoformat(),
            "to": self.window.end.isoformat(),
            "timezone": self.timezone,
            "time_basis": self.basis.value,
            "members": {
                key: {m.key: values.values.get(m.key) for m in self.metrics}
                for key, values in sorted(self.members.items())
            },
        }


def _member_values(
    engine: Engine,
    *,
    config: DeskboardConfig,
    calendar: BusinessCalendar,
    window: Window,
    refs: Sequence[MetricRef],
    basis: TimeBasis,
) -> dict[str, MemberValues]:
    """Every reader's one way to the numbers: derived for the configuration in force.

    A member ConnectWise marks inactive (someone who left) is left out unless they resolved
    tickets in the window: a technician who leaves mid-month keeps that month."""
    ensure_derived(engine, config=config, params=config.derive_params(calendar))
    rollups.refresh_for(engine, window)  # the day totals, before the session below reads
    with session_scope(engine) as session:
        inactive = repo.inactive_member_keys(session)
        members = standings.member_values(
            session,
            window=window,
            refs=refs,
            basis=basis,
            working_days=calendar.working_days(window.start, window.end),
            category_bits=category_bits(config.category_list()),
            excluded=config.excluded_members,
            credit=config.csat.credit,
        )
    return {
        key: values
        for key, values in members.items()
        if key not in inactive or values.resolved.get(None, 0) > 0
    }


def database_needs(config: DeskboardConfig) -> frozenset[Needs]:
    """What the database can support: its own history, its ratings, and notes when the sync
    reads them."""
    if config.connectwise.sync_notes:
        return frozenset({Needs.DATABASE, Needs.NOTES, Needs.RATINGS})
    return frozenset({Needs.DATABASE, Needs.RATINGS})


def metrics_from_database(
    engine: Engine, *, config: DeskboardConfig, window: Window, basis: TimeBasis
) -> MetricsReport:
    calendar = config.calendar()
    metrics = supported_metrics(database_needs(config))
    members = _member_values(
        engine,
        config=config,
        calendar=calendar,
        window=window,
        refs=[MetricRef(m) for m in metrics],
        basis=basis,
    )
    with session_scope(engine) as session:
        as_of = repo.data_as_of(session)
    return MetricsReport(window, config.timezone, basis, metrics, members, as_of)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TicketFileError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TicketFileError(f"{path}: not valid JSON: {exc}") from None


def read_ticket_file(path: Path) -> list[object]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise TicketFileError(
            f"{path}: expected a JSON array of tickets as GET /service/tickets returns, "
            f"got a JSON {type(data).__name__}"
        )
    return data


def read_notes_file(path: Path, *, read_notes: NotesFileReader) -> dict[int, list[TicketNote]]:
    """A ``--notes`` file: a JSON object mapping each ticket id (a string) to the array of its
    notes as the PSA's API returns them; unreadable notes are logged and left out."""
    data = _read_json(path)
    if not isinstance(data, dict):
        raise TicketFileError(
            f"{path}: expected a JSON object mapping ticket ids to arrays of notes, "
            f"got a JSON {type(data).__name__}"
        )
    notes: dict[int, list[TicketNote]] = {}
    for key, raws in data.items():
        if not key.strip().isdigit():
            raise TicketFileError(f"{path}: {key!r} is not a ticket id")
        if not isinstance(raws, list):
            raise TicketFileError(
                f"{path}: ticket {key}: expected an array of notes, got a JSON "
                f"{type(raws).__name__}"
            )
        notes[int(key)] = read_notes(raws, ticket_id=int(key))
    return notes


def metrics_from_file(
    path: Path,
    *,
    read_tickets: TicketFileReader,
    config: DeskboardConfig,
    window: Window,
    basis: TimeBasis,
    ratings: Sequence[Rating] | None = None,
    notes: Mapping[int, Sequence[TicketNote]] | None = None,
) -> MetricsReport:
    """Metrics of the tickets in a file, read by ``read_tickets`` (the PSA adapter's);
    ``backlog`` and ``reopened`` need the database. With ``notes`` (a ``--notes`` file),
    ``first_contact_pct`` and the conversation metrics too; a ticket the notes file does not
    list counts as one whose notes were not read. With ``ratings`` (a ``--ratings`` file), the
    CSAT metrics, credited to the resolver or owner: a file holds no time entries."""
    if ratings is not None and config.csat.credit is Credit.WORKED:
        raise TicketFileError(
            "csat.credit: 'worked' needs the time entries of the database; "
            "the file mode credits 'resolver' or 'owner'"
        )
    records, skipped = read_tickets(read_ticket_file(path))
    engine = create_engine_for("sqlite://")
    migrate(engine)
    calendar = config.calendar()
    params = config.derive_params(calendar)
    rule = WaitingRule(tuple(config.business_hours.waiting_statuses))
    with session_scope(engine) as session:
        repo.upsert_tickets(session, records=records, params=params, waiting_rule=rule)
        repo.set_derive_fingerprint(session, fingerprint=derive_fingerprint(params, rule))
        if ratings is not None:
            upsert_ratings(session, ratings=ratings, now=window.end)
        if notes is not None:
            owed = repo.tickets_needing_notes(session, limit=max(1, len(records)))
            read = [repo.NotesRead(o, notes[o.ticket_id]) for o in owed if o.ticket_id in notes]
            repo.store_notes(session, read=read, calendar=calendar, waiting_rule=rule)
    needs = {Needs.RATINGS} if ratings is not None else set()
    if notes is not None:
        needs.add(Needs.NOTES)
    metrics = supported_metrics(frozenset(needs))
    members = _member_values(
        engine,
        config=config,
        calendar=calendar,
        window=window,
        refs=[MetricRef(m) for m in metrics],
        basis=basis,
    )
    engine.dispose()
    return MetricsReport(window, config.timezone, basis, metrics, members, None, tuple(skipped))


def contest_standings(
    engine: Engine, *, config: DeskboardConfig, contest: Contest, now: datetime
) -> Standings:
    """The contest's standings for its current period (or its fixed window)."""
    window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day)
    return standings_for_window(engine, config=config, contest=contest, window=window)


def standings_for_window(
    engine: Engine, *, config: DeskboardConfig, contest: Contest, window: Window
) -> Standings:
    members = _member_values(
        engine,
        config=config,
        calendar=config.calendar(),
        window=window,
        refs=list(contest.refs),
        basis=config.metrics.time_basis,
    )
    with session_scope(engine) as session:
        as_of = repo.data_as_of(session)
    return compute_standings(contest, members, window=window, data_as_of=as_of)
