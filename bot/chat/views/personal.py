"""A technician's own view: ``/mystats`` and the App Home."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.chat.formatting import (
    data_as_of,
    format_measure,
    ordinal,
    prize_text,
)
from bot.chat.message import Message
from bot.chat.render import render
from bot.chat.views.common import (
    SHORT_SUMMARY_CHARS,
    ContestLine,
    Person,
    find_standing,
    person_for,
    ticket_line,
)
from metrics.definitions import Direction, MetricDef
from metrics.standings import Standings

MAX_DRAGS = 15  # tickets listed in /mystats as dragging a metric down
MAX_RANKS = 10  # contests listed in /mystats and the home view


@dataclass(frozen=True, slots=True)
class StatRow:
    """One metric of one technician: ``/mystats`` and the home view."""

    label: str
    value: float | None
    unit: str
    direction: Direction


@dataclass(frozen=True, slots=True)
class RankRow:
    """Where one technician stands in one contest."""

    contest: str
    window_label: str
    rank: int | None  # None: not qualified
    ranked: int  # how many qualified
    value: float | None
    unit: str
    resolved: int  # the qualifying count: resolved tickets, or ratings (``counted``)
    min_resolved: int
    wins: bool
    counted: str = "resolved"  # Contest.qualifying_noun


@dataclass(frozen=True, slots=True)
class DragTicket:
    """A ticket that drags a metric down (uncategorized, no agreement, catch-all company)."""

    ticket_id: int
    summary: str
    company: str
    reasons: tuple[str, ...]
    ticket_url: str | None = None


def stat_rows(metrics: Sequence[MetricDef], values: Mapping[str, float | None]) -> list[StatRow]:
    """A technician's ``StatRow`` per metric, in the order given; a missing value is null."""
    return [StatRow(m.label, values.get(m.key), m.unit, m.direction) for m in metrics]


def rank_row(standings: Standings, member: str) -> RankRow | None:
    """Where ``member`` stands in ``standings``; None when they are not on the board at all."""
    contest = standings.contest
    found = find_standing(standings, member)
    if found is None:
        return None
    return RankRow(
        contest=contest.name,
        window_label=standings.window.label(),
        rank=found.rank,
        ranked=len(standings.ranked),
        value=found.value,
        unit=contest.unit,
        resolved=found.qualifying,
        min_resolved=contest.effective_min_resolved,
        counted=contest.qualifying_noun,
        wins=found.wins,
    )


@dataclass(frozen=True, slots=True)
class RankText:
    contest: str
    window_label: str
    text: str
    wins: bool


def _rank_text(row: RankRow) -> RankText:
    if row.rank is None:
        if row.resolved < row.min_resolved:
            text = f"not yet qualified: {row.resolved} of {row.min_resolved} {row.counted}"
        else:
            text = "not yet qualified: no data"
    else:
        text = f"{ordinal(row.rank)} of {row.ranked} · {format_measure(row.value, row.unit)}"
    return RankText(row.contest, row.window_label, text, row.wins)


def _stat_lines(rows: Sequence[StatRow]) -> list[tuple[str, str]]:
    return [(r.label, format_measure(r.value, r.unit)) for r in rows]


def mystats_message(
    *,
    person: Person,
    window_label: str,
    rows: Sequence[StatRow],
    ranks: Sequence[RankRow],
    drags: Sequence[DragTicket],
    as_of: datetime | None,
    tz: tzinfo,
) -> Message:
    """The caller's numbers for every metric, rank per contest, and the tickets that drag a
    metric down, with links (``MAX_DRAGS`` of them, then "and N more")."""
    tickets = [
        ticket_line(
            d.ticket_id,
            d.summary,
            d.company,
            d.ticket_url,
            summary_chars=SHORT_SUMMARY_CHARS,
            reasons=d.reasons,
        )
        for d in drags[:MAX_DRAGS]
    ]
    return render(
        "mystats",
        text=f"Your numbers, {window_label}",
        title=f"{person.display} — {window_label}",
        stats=_stat_lines(rows),
        ranks=[_rank_text(r) for r in ranks[:MAX_RANKS]],
        more_ranks=max(0, len(ranks) - MAX_RANKS),
        drags=tickets,
        more_drags=max(0, len(drags) - MAX_DRAGS),
        as_of=data_as_of(as_of, tz),
    )


def _leaders(standings: Standings, people: Mapping[str, Person]) -> str | None:
    if not standings.ranked:
        return None
    contest = standings.contest
    return " · ".join(
        f"{s.rank}. {person_for(people, s.member).display} {format_measure(s.value, contest.unit)}"
        for s in standings.ranked[:3]
    )


def home_view(
    *,
    viewer: Person | None,
    window_label: str,
    rows: Sequence[StatRow],
    contests: Sequence[Standings],
    people: Mapping[str, Person],
    as_of: datetime | None,
    tz: tzinfo,
) -> Message:
    """The App Home: the viewer's numbers (when their chat user is linked to a technician)
    and each live contest with its top three and the viewer's place."""
    lines: list[ContestLine] = []
    for standings in contests[:MAX_RANKS]:
        contest = standings.contest
        row = rank_row(standings, viewer.key) if viewer is not None else None
        lines.append(
            ContestLine(
                name=contest.name,
                label=contest.label,
                when=standings.window.label(),
                rules=prize_text(contest),
                posts=None,
                leaders=_leaders(standings, people),
                mine=_rank_text(row).text if row is not None else None,
            )
        )
    return render(
        "home",
        text="Deskboard",
        viewer=viewer,
        window_label=window_label,
        stats=_stat_lines(rows),
        contests=lines,
        more_contests=max(0, len(contests) - MAX_RANKS),
        as_of=data_as_of(as_of, tz),
    )
