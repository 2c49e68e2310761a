"""``generate_records``: a large MSP's tickets straight as ``TicketRecord`` batches, fast.

``generate_msp`` writes each ticket's life event by event and serves it as ConnectWise JSON:
right for the demo and the tests, but it takes about 20 s and 900 MB per 200,000 tickets, too
slow for the benchmarks' million. This generator draws each ticket's state at ``now`` directly,
with the timeline generator's shares and time scales (``ticket_writer``, ``lifecycle``): boards
by hour of entry, sources, Catchall senders, forgotten agreements, priorities, partial
categorization, the dispatcher's hand-offs, escalations, waiting, long-running tickets,
reopens, closing two business days after resolving, logged hours and SLA minutes, and
identifiers in varying letter case. Arrivals follow the working week (a morning peak, a few
at night and at weekends). Same arguments, same records: one ``random.Random(seed)`` draws
everything in a fixed order.

A reopened ticket comes more than once: as it was when first resolved (in the batch of its
entry), as reopened (in the next batch) and as it is now (the batch after), so that storing
the batches in order records the reopen the way successive syncs would.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from metrics.records import TicketRecord
from psa.connectwise.simulator import catalog, lifecycle, ticket_writer
from psa.connectwise.simulator.business_hours import BusinessHours
from psa.connectwise.simulator.generate import AFTER_HOURS_SHARE, HOURLY_WEIGHTS, WEEKEND_SHARE
from psa.connectwise.simulator.model import to_epoch

MINUTE, HOUR, DAY = 60, 3600, 86400
BUSINESS_DAY = 9 * HOUR
FIRST_TICKET_ID = 1_000_001
# Each technician's role by position modulo 20: 12 on the help desk, 3 in the NOC, 4 in
# tier 2 and 1 on projects, as in the simulator's small MSP.
_ROLE_CYCLE = ("tier1",) * 12 + ("noc",) * 3 + ("tier2",) * 4 + ("projects",)
_STATUS_IDS = {name: order + 1 for order, (name, *_) in enumerate(catalog.STATUSES)}
_BOARD_IDS = {name: board_id for board_id, name, _ in catalog.BOARDS}
_PRIORITY_NAMES = {sort: name for _, name, sort, _ in catalog.PRIORITIES}


@dataclass(frozen=True, slots=True)
class _Company:
    identifier: str
    id: int
    name: str
    agreement: tuple[int, str] | None


def _companies() -> tuple[list[_Company], list[float], _Company]:
    """The simulator's clients (with their weights) and the Catchall company."""
    clients: list[_Company] = []
    weights: list[float] = []
    for offset, (identifier, name, _city, _state, weight, level) in enumerate(catalog.COMPANIES):
        agreement = None
        if level is not None:
            label = "Internal IT" if level == "Internal" else f"Managed Services - {level}"
            agreement = (400 + offset, label)
        clients.append(_Company(identifier, 250 + offset, name, agreement))
        weights.append(weight)
    catchall = _Company(catalog.CATCHALL[0], 250 + len(clients), catalog.CATCHALL[1], None)
    return clients, list(accumulate(weights)), catchall


def _technicians(count: int) -> tuple[str, dict[str, tuple[str, ...]]]:
    """The dispatcher and ``count - 1`` technicians by role (every role has someone)."""
    if count < 2:
        raise ValueError(f"members must be at least 2 (a dispatcher and a technician), got {count}")
    names = [f"Tech{n:03d}" for n in range(1, count)]
    pools: dict[str, list[str]] = {role: [] for role in _ROLE_CYCLE}
    for n, name in enumerate(names):
        pools[_ROLE_CYCLE[n % len(_ROLE_CYCLE)]].append(name)
    return "Dispatch", {role: tuple(pool or names) for role, pool in pools.items()}


def _arrival_slots(start: int, end: int, zone: ZoneInfo) -> tuple[list[int], list[float]]:
    """Hour slots of ``[start, end)`` and their cumulative arrival weights: weekdays peak in
    the morning, nights bring ``AFTER_HOURS_SHARE`` and a weekend day ``WEEKEND_SHARE``."""
    business = dict(zip(range(7, 18), HOURLY_WEIGHTS, strict=True))
    scale = (1 - AFTER_HOURS_SHARE) / sum(HOURLY_WEIGHTS)
    night = AFTER_HOURS_SHARE / (24 - len(business))
    slots: list[int] = []
    weights: list[float] = []
    day = datetime.fromtimestamp(start, zone).date()
    while True:
        noon = datetime.combine(day, time(12), tzinfo=zone)
        midnight = int(noon.timestamp()) - 12 * HOUR
        if midnight >= end:
            break
        for hour in range(24):
            at = midnight + hour * HOUR
            if at + HOUR <= start or at >= end:
                continue
            if day.weekday() >= 5:
                weight = WEEKEND_SHARE / 24
            elif hour in business:
                weight = business[hour] * scale
            else:
                weight = night
            slots.append(at)
            weights.append(weight)
        day += timedelta(days=1)
    return slots, list(accumulate(weights))


class _Draws:
    """The random draws every ticket makes, on one seeded ``Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, weighted: ticket_writer.Weighted) -> Any:
        choices, cumulative = weighted
        return choices[bisect_right(cumulative, self.rng.random() * cumulative[-1])]

    def lognormal(self, median: float, sigma: float) -> float:
        return self.rng.lognormvariate(math.log(median), sigma)

    def spell(self, identifier: str) -> str:
        draw = self.rng.random()
        if draw < ticket_writer.MISSPELLED_IDENTIFIER * 0.85:
            return identifier.lower()
        if draw < ticket_writer.MISSPELLED_IDENTIFIER:
            return identifier.upper()
        return identifier

    def one_of(self, pool: tuple[str, ...], *, other_than: str = "") -> str:
        if other_than in pool and len(pool) > 1:
            pool = tuple(m for m in pool if m != other_than)
        return pool[int(self.rng.random() * len(pool))]


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class _BulkWriter:
    """Draws one ticket at a time: its versions, oldest first, as seen at ``now``."""

    def __init__(self, rng: random.Random, *, members: int, hours: BusinessHours, now: int) -> None:
        self.draw = _Draws(rng)
        self.rng = rng
        self.hours = hours
        self.now = now
        self.dispatch, self.pools = _technicians(members)
        self.clients, self.client_weights, self.catchall = _companies()
        self.categories = {
            board: list(entries.items()) for board, entries in catalog.CATEGORIES.items()
        }

    def _company(self, source: str) -> _Company:
        if self.rng.random() < ticket_writer.CATCHALL_SHARE.get(source, 0.0):
            return self.catchall
        point = self.rng.random() * self.client_weights[-1]
        return self.clients[bisect_right(self.client_weights, point)]

    def _category(self, board: str) -> tuple[str | None, str | None, str | None, str]:
        """Type, subtype and item as the ticket ends (5% none, 11% partial), and a summary."""
        (type_name, subtype), (items, summaries) = self.rng.choice(self.categories[board])
        item = self.rng.choice(items)
        summary = self.rng.choice(summaries).format(contact="a new user", device="WS014")
        draw = self.rng.random()
        if draw < 0.05:
            return None, None, None, summary
        if draw < 0.13:
            return type_name, subtype, None, summary
        if draw < 0.16:
            return type_name, None, None, summary
        return type_name, subtype, item, summary

    def _responder(self, board: str) -> str:
        if board == "Service Desk" and self.rng.random() < lifecycle.DISPATCH_SHARE:
            return self.dispatch
        if board == "Projects":
            role = "projects" if self.rng.random() < 0.7 else "tier2"
        else:
            role = lifecycle.RESPONDER_ROLE[board]
            if role == "noc" and self.rng.random() < 0.2:
                role = "tier1"
        return self.draw.one_of(self.pools[role])

    def _business_minutes(self, start: int, end: int, *, no_sla: bool) -> float:
        return 0.0 if no_sla else float(self.hours.between(start, end) // MINUTE)

    def versions(self, ticket_id: int, entered: int) -> list[TicketRecord]:
        draw, rng, hours, now = self.draw, self.rng, self.hours, self.now
        in_hours = hours.is_open(entered)
        arrival = ticket_writer.BOARD_IN_HOURS if in_hours else ticket_writer.BOARD_AFTER_HOURS
        board: str = draw.pick(arrival)
        source: str = draw.pick(ticket_writer.SOURCES[board])
        company = self._company(source)
        priority: int = draw.pick(ticket_writer.PRIORITIES[board])
        type_name, subtype, item, summary = self._category(board)
        agreement = company.agreement
        if agreement is not None and rng.random() < ticket_writer.FORGOTTEN_AGREEMENT:
            agreement = None
        no_sla = board in ("Alerts", "Projects")
        auto = board == "Alerts" and rng.random() < lifecycle.AUTO_CLEARED_ALERTS

        responder = self._responder(board)
        dispatched = responder == self.dispatch
        median = lifecycle.RESPONSE_MEDIAN_MINUTES[priority] * (0.6 if dispatched else 1.0)
        delay = min(draw.lognormal(median, 0.9), 3 * 9 * 60.0) * MINUTE
        responded = max(hours.add(entered, delay), entered + MINUTE) + rng.randrange(MINUTE)
        handed = dispatched and rng.random() < lifecycle.DISPATCH_HANDS_ON
        worker = draw.one_of(self.pools["tier1"]) if handed else responder
        planned = responded
        if handed:
            planned = hours.add(responded, draw.lognormal(40.0, 0.8) * MINUTE)

        if auto:
            work = draw.lognormal(10.0, 0.8) * MINUTE
        elif board != "Alerts" and rng.random() < lifecycle.BACKLOG_SHARE:
            work = draw.lognormal(lifecycle.BACKLOG_MEDIAN_DAYS, 0.7) * BUSINESS_DAY
        else:
            work = draw.lognormal(lifecycle.WORK_MEDIAN_HOURS[board], 1.0) * HOUR
        work = min(work, 250.0 * BUSINESS_DAY)
        logged = 0.0
        hand_off = lifecycle.TO_ESCALATIONS.get(board, 0.0)
        hand_off += lifecycle.TO_COLLEAGUE if board == "Service Desk" else 0.0
        if not auto and not dispatched and rng.random() < hand_off:
            escalate = rng.random() < lifecycle.TO_ESCALATIONS[board] / hand_off
            if escalate:
                board = "Escalations"
            worker = draw.one_of(self.pools["tier2" if escalate else "tier1"], other_than=worker)
            logged += 0.25

        cursor, paused, resumed, waited = planned, None, None, 0.0
        if not auto and board != "Alerts" and rng.random() < lifecycle.WAITING_SHARE:
            share = rng.uniform(0.2, 0.7)
            paused = hours.add(cursor, work * share)
            pause = min(max(draw.lognormal(1.2 * DAY, 0.8), 2.0 * HOUR), 15.0 * DAY)
            resumed = paused + int(pause)
            waited = self._business_minutes(paused, resumed, no_sla=no_sla)
            cursor, work = resumed, work * (1 - share)
        resolved = hours.add(cursor, work) + rng.randrange(MINUTE)
        if rng.random() >= lifecycle.NO_TIME_LOGGED:
            logged += min(max(draw.lognormal(lifecycle.LOGGED_MEDIAN_HOURS[board], 0.8), 0.1), 6)
        hours_logged = round(min(logged, 6.0), 2)

        reopened_at: int | None = None
        final_resolver, final_resolved = worker, resolved
        if not auto and board != "Alerts" and rng.random() < lifecycle.REOPEN_SHARE:
            reopened_at = resolved + int(min(max(draw.lognormal(DAY, 0.8), 2.0 * HOUR), 6 * DAY))
            if rng.random() < 0.4:
                final_resolver = draw.one_of(self.pools["tier1"], other_than=worker)
            again = hours.add(reopened_at, draw.lognormal(1.5, 0.8) * HOUR)
            final_resolved = again + rng.randrange(MINUTE)
        closed_at = final_resolved
        if rng.random() >= lifecycle.CLOSED_AT_ONCE:
            closed_at = hours.add(final_resolved, 2 * BUSINESS_DAY) + rng.randrange(HOUR)
        spelled = {name: draw.spell(name) for name in (responder, worker, final_resolver)}

        company_ref = company if rng.random() >= 0.003 else None  # a few with no company
        common = {
            "id": ticket_id,
            "board": board,
            "board_id": _BOARD_IDS[board],
            "company": company_ref.identifier if company_ref else None,
            "company_id": company_ref.id if company_ref else None,
            "company_name": company_ref.name if company_ref else None,
            "agreement": agreement[1] if agreement else None,
            "agreement_id": agreement[0] if agreement else None,
            "type": type_name,
            "subtype": subtype,
            "item": item,
            "priority": _PRIORITY_NAMES[priority],
            "source": source,
            "summary": summary[:100],
            "entered_at": _at(entered),
        }
        if responded > now:  # nobody has answered yet
            return [self._record(common, board, "New", updated=entered)]
        respond_min = self._business_minutes(entered, responded, no_sla=no_sla)
        resplan_min = self._business_minutes(responded, planned, no_sla=no_sla)
        answered = {
            **common,
            "responded_at": _at(responded),
            "responder": spelled[responder],
            "sla_respond_min": respond_min,
            "sla_resplan_min": resplan_min,
        }

        def resolve_minutes(until: int) -> float:
            spent = self._business_minutes(planned, until, no_sla=no_sla)
            return max(0.0, spent - (waited if resumed is not None and resumed <= until else 0))

        versions: list[TicketRecord] = []
        if reopened_at is not None and resolved <= now:
            first = {**answered, "owner": worker, "sla_resolve_min": resolve_minutes(resolved)}
            first.update(resolved_at=_at(resolved), resolver=spelled[worker])
            first.update(actual_hours=hours_logged, sla_waiting_min=waited if resumed else 0.0)
            versions.append(self._record(first, board, ">Resolved", updated=resolved))
            if reopened_at <= now:
                back = {**answered, "owner": final_resolver, "actual_hours": hours_logged}
                back.update(sla_waiting_min=waited if resumed else 0.0)
                back["sla_resolve_min"] = resolve_minutes(resolved)
                versions.append(self._record(back, board, "Re-opened", updated=reopened_at))
            if final_resolved > now:
                return versions
        if final_resolved <= now:
            done = {**answered, "owner": final_resolver, "actual_hours": hours_logged}
            done.update(resolved_at=_at(final_resolved), resolver=spelled[final_resolver])
            done.update(sla_waiting_min=waited if resumed else 0.0)
            done["sla_resolve_min"] = resolve_minutes(final_resolved)
            if closed_at <= now:
                done.update(closed=True)
                versions.append(self._record(done, board, ">Closed", updated=closed_at))
            else:
                versions.append(self._record(done, board, ">Resolved", updated=final_resolved))
            return versions
        # Still being worked on: waiting, or in progress since the last change.
        status, updated = "In Progress", planned
        if paused is not None and paused <= now:
            status, updated = "Waiting on Client", paused
            if resumed is not None and resumed <= now:
                status, updated = "In Progress", resumed
        still = {**answered, "owner": worker, "sla_resolve_min": 0.0}
        still["sla_waiting_min"] = waited if resumed is not None and resumed <= now else 0.0
        return [self._record(still, board, status, updated=min(updated, now))]

    @staticmethod
    def _record(
        fields: dict[str, object], board: str, status: str, *, updated: int
    ) -> TicketRecord:
        status_id = _BOARD_IDS[board] * 100 + _STATUS_IDS[status]
        return TicketRecord(
            status=status,
            status_id=status_id,
            updated_at=_at(updated),
            **fields,  # type: ignore[arg-type]
        )


def generate_records(
    *,
    seed: int,
    tickets: int,
    start: datetime,
    end: datetime,
    members: int = 200,
    timezone: str = "America/Chicago",
    now: datetime | None = None,
    batch: int = 5000,
) -> Iterator[list[TicketRecord]]:
    """``tickets`` tickets entered in ``[start, end)``, as they stand at ``now`` (default
    ``end``), in batches of about ``batch`` records, ids ascending with entry time.

    Store the batches in order, one transaction each: a reopened ticket's earlier versions
    come in earlier batches (see the module docstring), so a batch may hold a few more or
    fewer than ``batch`` records, and the last batches only such later versions.
    """
    start_at, end_at = to_epoch(start), to_epoch(end)
    now_at = to_epoch(now) if now is not None else end_at
    if end_at <= start_at:
        raise ValueError("end must be after start")
    if tickets < 0 or batch < 1:
        raise ValueError(f"tickets must be >= 0 and batch >= 1 (got {tickets}, {batch})")
    zone = ZoneInfo(timezone)
    rng = random.Random(seed)
    first_day = datetime.fromtimestamp(start_at, zone).date() - timedelta(days=7)
    last_day = datetime.fromtimestamp(max(end_at, now_at), zone).date() + timedelta(days=3 * 365)
    hours = BusinessHours(timezone=zone, first=first_day, last=last_day)
    writer = _BulkWriter(rng, members=members, hours=hours, now=now_at)
    slots, cumulative = _arrival_slots(start_at, end_at, zone)
    total = cumulative[-1]

    current: list[TicketRecord] = []
    later: list[list[TicketRecord]] = []  # later versions, one list per batch to come
    ticket_id = FIRST_TICKET_ID
    for n in range(tickets):
        # Stratified: the n-th of ``tickets`` equal shares of the arrival weight, so the
        # entry times ascend with the ids and the count is exact.
        point = (n + rng.random()) / tickets * total
        slot = min(bisect_right(cumulative, point), len(slots) - 1)
        before = cumulative[slot - 1] if slot else 0.0
        weight = cumulative[slot] - before
        entered = slots[slot] + min(HOUR - 1, int((point - before) / weight * HOUR))
        entered = max(start_at, min(entered, end_at - 1))
        first, *rest = writer.versions(ticket_id, entered)
        current.append(first)
        for k, version in enumerate(rest):
            while len(later) <= k:
                later.append([])
            later[k].append(version)
        ticket_id += 1 if rng.random() < 0.97 else rng.randint(2, 6)
        if len(current) >= batch:
            yield current
            current = later.pop(0) if later else []
    if current:
        yield current
    for versions in later:
        if versions:
            yield versions
