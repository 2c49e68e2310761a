"""``generate_msp``: a deterministic, believable MSP with a few weeks or years of tickets.

Same seed and arguments give byte-identical JSON: one ``random.Random(seed)`` drives
everything in a fixed order and nothing iterates a set. Arrivals follow the working week in
the MSP's timezone (see ``arrivals``); each ticket's life is written by ``TicketWriter``.
"""

from __future__ import annotations

import calendar
import math
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from psa.connectwise.simulator.business_hours import BusinessHours
from psa.connectwise.simulator.model import SimulatedMSP, to_epoch
from psa.connectwise.simulator.reference import build_reference
from psa.connectwise.simulator.ticket_writer import TicketWriter

FIRST_TICKET_ID = 41_001
# Share of a weekday's tickets that arrive outside 07:00-18:00 (RMM alerts, mostly).
AFTER_HOURS_SHARE = 0.10
# A weekend day brings this fraction of a weekday's volume, spread over the whole day.
WEEKEND_SHARE = 0.12
# Relative arrival rate per local hour from 07:00 to 17:00: a morning peak, a lunch dip.
HOURLY_WEIGHTS = (0.35, 1.0, 1.4, 1.3, 1.1, 0.75, 1.05, 1.2, 1.0, 0.8, 0.3)


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _day_epoch(day: date, zone: ZoneInfo) -> int:
    """Local midnight as UTC epoch, using the offset at noon (exact except 00:00-03:00 on
    DST-change days, where an arrival may shift by an hour: harmless for a simulation)."""
    noon = datetime.combine(day, time(12), tzinfo=zone)
    offset = noon.utcoffset() or timedelta(0)
    midnight_as_utc = calendar.timegm(day.timetuple())
    return midnight_as_utc - int(offset.total_seconds())


def arrivals(
    rng: random.Random, *, start: int, end: int, per_workday: float, zone: ZoneInfo
) -> list[int]:
    """Entry instants in ``[start, end)``, ascending."""
    first = datetime.fromtimestamp(start, zone).date()
    last = datetime.fromtimestamp(end, zone).date()
    hours = list(range(7, 18))
    night = [*range(0, 7), *range(18, 24)]
    times: list[int] = []
    day = first
    while day <= last:
        midnight = _day_epoch(day, zone)
        if day.weekday() < 5:
            business = poisson(rng, per_workday * (1 - AFTER_HOURS_SHARE))
            after = poisson(rng, per_workday * AFTER_HOURS_SHARE)
            picked = rng.choices(hours, weights=HOURLY_WEIGHTS, k=business)
            picked += [rng.choice(night) for _ in range(after)]
        else:
            picked = [rng.randrange(24) for _ in range(poisson(rng, per_workday * WEEKEND_SHARE))]
        for hour in picked:
            at = midnight + hour * 3600 + rng.randrange(3600)
            if start <= at < end:
                times.append(at)
        day += timedelta(days=1)
    times.sort()
    return times


NIGHT_EMERGENCY_DAYS = (1, 3)  # Tuesday and Thursday nights
"""A customer's emergency entered between 01:00 and 01:45 on these nights: it waits for the
morning's answer, so an alert on the calendar clock has something to say at night."""


NIGHT_ON_CALL_MINUTES = 35.0  # the median wait for the on-call technician at night


def emergency_nights(rng: random.Random, *, start: int, end: int, zone: ZoneInfo) -> list[int]:
    """The entry instants of the night emergencies in ``[start, end)``, ascending."""
    found = []
    day = datetime.fromtimestamp(start, zone).date()
    while _day_epoch(day, zone) < end:
        entered = _day_epoch(day, zone) + 3600 + rng.randrange(45 * 60)
        if day.weekday() in NIGHT_EMERGENCY_DAYS and start <= entered < end:
            found.append(entered)
        day += timedelta(days=1)
    return found


def generate_msp(
    *,
    seed: int = 7,
    start: datetime,
    end: datetime,
    tickets_per_workday: float = 40.0,
    timezone: str = "America/Chicago",
    night_emergencies: bool = False,
) -> SimulatedMSP:
    """An MSP whose tickets arrive in ``[start, end)``; their later events may lie past ``end``
    (a ticket entered on the last day is resolved after it), so advancing a server's clock
    beyond ``end`` keeps things happening. With ``night_emergencies``, a customer's Priority 1
    also arrives between 01:00 and 01:45 on Tuesday and Thursday nights and waits for the
    on-call technician (``NIGHT_ON_CALL_MINUTES``): what an alert on the calendar clock is
    for. The demo has them; the other tickets are the same with or without them, but for
    their ids, which follow entry order."""
    start_at, end_at = to_epoch(start), to_epoch(end)
    if end_at <= start_at:
        raise ValueError("end must be after start")
    zone = ZoneInfo(timezone)
    rng = random.Random(seed)
    first_day = datetime.fromtimestamp(start_at, zone).date() - timedelta(days=7)
    last_day = datetime.fromtimestamp(end_at, zone).date() + timedelta(days=3 * 365)
    hours = BusinessHours(timezone=zone, first=first_day, last=last_day)
    departure = start_at + (end_at - start_at) * 3 // 10
    reference = build_reference(rng, since=start_at - 400 * 86400, inactive_since=departure)
    # Details added later (budgets, due dates) draw from their own stream: the main one, and
    # every ticket's life with it, stays as it was.
    details = random.Random(f"{seed}/details")
    writer = TicketWriter(rng, reference, hours, departure=departure, details=details)
    # The night emergencies draw from streams of their own, so every other ticket's life
    # stays as the seed made it; they take their place in the id sequence by entry time.
    night_rng = random.Random(f"{seed}/night")
    night = TicketWriter(
        night_rng, reference, hours, departure=departure, details=random.Random(f"{seed}/n")
    )
    night.next_note_id = 5_000_001  # a range of its own
    night.on_call_minutes = NIGHT_ON_CALL_MINUTES
    emergencies = (
        emergency_nights(night_rng, start=start_at, end=end_at, zone=zone)
        if night_emergencies
        else []
    )
    ticket_id = FIRST_TICKET_ID
    tickets = []
    for entered in arrivals(
        rng, start=start_at, end=end_at, per_workday=tickets_per_workday, zone=zone
    ):
        while emergencies and emergencies[0] <= entered:
            tickets.append(night.write(ticket_id, emergencies.pop(0), emergency=True))
            ticket_id += 1
        tickets.append(writer.write(ticket_id, entered))
        # Real ticket ids have gaps (deleted tickets, other record types).
        ticket_id += 1 if rng.random() < 0.97 else rng.randint(2, 6)
    return SimulatedMSP(
        seed=seed,
        start=start,
        end=end,
        timezone=timezone,
        members=reference.members,
        boards=reference.boards,
        statuses=reference.statuses,
        types=reference.types,
        subtypes=reference.subtypes,
        items=reference.items,
        associations=reference.associations,
        teams=reference.teams,
        companies=reference.companies,
        contacts=reference.contacts,
        agreements=reference.agreements,
        priorities=reference.priorities,
        sources=reference.sources,
        tickets=tickets,
        api_member=reference.api_member,
    )
