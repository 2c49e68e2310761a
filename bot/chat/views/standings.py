"""Contest standings (``/leaderboard``, scheduled posts) and the winners of a period."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo

from bot.chat.formatting import (
    data_as_of,
    format_measure,
    ordinal,
    rule_text,
)
from bot.chat.message import Context, Message, Span
from bot.chat.render import render
from bot.chat.views.common import (
    TROPHY,
    Person,
    find_standing,
    person_for,
    unmentioned,
)
from metrics.contests import Contest, ContestKind
from metrics.standings import Standing, Standings

MAX_TOP = 20  # ranked lines in a leaderboard, ties at the cut included
MAX_NOT_QUALIFIED = 25  # names in "Not yet qualified"
MAX_WINNERS = 25  # winner lines in a winners announcement


@dataclass(frozen=True, slots=True)
class RankLine:
    rank: int
    person: Person
    value: str  # formatted, with the tier for multi_goal contests
    resolved: int  # the qualifying count: resolved tickets, or ratings (``counted``)
    wins: bool
    is_caller: bool = False
    counted: str = "resolved"  # Contest.qualifying_noun


@dataclass(frozen=True, slots=True)
class Waiting:
    """Someone not yet qualified: ``resolved`` of the ``needed`` tickets, or enough tickets
    but no value yet (a rate over nothing)."""

    person: Person
    resolved: int
    needed: int
    counted: str = "resolved"  # Contest.qualifying_noun


def _value_text(standing: Standing, contest: Contest) -> str:
    text = format_measure(standing.value, contest.unit)
    if standing.tier is not None:
        text += f" · tier {format_measure(standing.tier, contest.unit)}"
    return text


def _rank_line(
    standing: Standing, contest: Contest, person: Person, *, caller: str | None = None
) -> RankLine:
    return RankLine(
        rank=standing.rank or 0,
        person=person,
        value=_value_text(standing, contest),
        resolved=standing.qualifying,
        wins=standing.wins,
        is_caller=standing.member == caller,
        counted=contest.qualifying_noun,
    )


def _waiting(standing: Standing, contest: Contest, person: Person) -> Waiting:
    return Waiting(
        person, standing.qualifying, contest.effective_min_resolved, contest.qualifying_noun
    )


def _top(ranked: Sequence[Standing], top: int) -> list[Standing]:
    """The first ``top`` ranked, and whoever ties with the last of them (up to ``MAX_TOP``)."""
    shown = list(ranked[:top])
    while shown and len(shown) < min(len(ranked), MAX_TOP):
        following = ranked[len(shown)]
        if following.rank != shown[-1].rank:
            break
        shown.append(following)
    return shown


def _zone(standings: Standings, tz: tzinfo | None) -> tzinfo:
    return tz or standings.window.start.tzinfo or UTC


def _names(people: Sequence[Person]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    names = [p.display for p in people]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def leaderboard_message(
    standings: Standings,
    *,
    people: Mapping[str, Person],
    caller: str | None,
    top: int = 10,
    shareable: bool = False,
    share_value: str = "",
    prize: str | None = None,
    tz: tzinfo | None = None,
) -> Message:
    """A contest's standings: the top ``top`` (ties at the cut included) and the caller's own
    line when they are further down, the rules, who has not qualified yet, and "data as of".

    Nobody is mentioned: a leaderboard is posted often and must not ping the whole board.
    ``prize`` is an optional reward in words ("a team lunch"); ``tz`` defaults to the
    window's zone (the configured one).
    """
    contest = standings.contest
    top = max(1, min(top, MAX_TOP))
    shown = _top(standings.ranked, top)

    def person(key: str) -> Person:
        return unmentioned(person_for(people, key))

    rows = [_rank_line(s, contest, person(s.member), caller=caller) for s in shown]
    caller_row: RankLine | None = None
    caller_waiting: Waiting | None = None
    caller_absent = False
    if caller is not None:
        mine = find_standing(standings, caller)
        if mine is None:
            caller_absent = True
        elif mine.qualified and mine not in shown:
            caller_row = _rank_line(mine, contest, person(caller), caller=caller)
        elif not mine.qualified:
            caller_waiting = _waiting(mine, contest, person(caller))
    waiting = sorted(
        standings.not_qualified, key=lambda s: (-s.resolved, person(s.member).display.casefold())
    )
    hidden_winners = sum(1 for s in standings.winners if s not in shown)
    label = standings.window.label()
    leaders = ", ".join(f"{r.rank}. {r.person.display} {r.value}" for r in rows[:3])
    text = f"{contest.name} ({label}): {leaders or 'nobody qualifies yet'}"
    return render(
        "leaderboard",
        text=text,
        title=f"{contest.name} — {label}",
        rules=rule_text(contest),
        prize=prize,
        rows=rows,
        more_ranked=len(standings.ranked) - len(shown) - (caller_row is not None),
        hidden_winners=hidden_winners,
        caller_row=caller_row,
        caller_waiting=caller_waiting,
        caller_absent=caller_absent,
        min_resolved=contest.effective_min_resolved,
        counted=contest.qualifying_noun,
        not_qualified=[_waiting(s, contest, person(s.member)) for s in waiting[:MAX_NOT_QUALIFIED]],
        more_not_qualified=max(0, len(waiting) - MAX_NOT_QUALIFIED),
        as_of=data_as_of(standings.data_as_of, _zone(standings, tz)),
        shareable=shareable,
        share_value=share_value,
    )


def winners_message(
    standings: Standings, *, people: Mapping[str, Person], tz: tzinfo | None = None
) -> Message:
    """The end of a period: who won (everyone tied for a winning place wins alike), or
    "no winner this time" with the reason."""
    contest = standings.contest
    winners = standings.winners
    label = standings.window.label()
    lines = [_rank_line(s, contest, person_for(people, s.member)) for s in winners[:MAX_WINNERS]]
    best: list[RankLine] = []
    if not winners and standings.ranked:
        first = standings.ranked[0].rank
        best = [
            _rank_line(s, contest, unmentioned(person_for(people, s.member)))
            for s in standings.ranked
            if s.rank == first
        ][:MAX_WINNERS]
    if winners:
        text = f"{contest.name} ({label}) winners: " + _names([r.person for r in lines])
    else:
        text = f"{contest.name} ({label}): no winner this time"
    places = contest.kind in (ContestKind.PLACES, ContestKind.WINNER_TAKES_ALL)
    tied = {s.rank for s in winners if sum(1 for w in winners if w.rank == s.rank) > 1}
    return render(
        "winners",
        text=text,
        title=f"{TROPHY} {contest.name} — {label}",
        winners=lines,
        ranked_places=places,
        places={r.rank: ordinal(r.rank) for r in lines},
        tied=tied,
        more_winners=max(0, len(winners) - MAX_WINNERS),
        best=best,
        nobody_qualified=not standings.ranked,
        goal=_goal_wording(contest),
        rules=rule_text(contest),
        as_of=data_as_of(standings.data_as_of, _zone(standings, tz)),
    )


def _goal_wording(contest: Contest) -> str | None:
    """``the goal of 90.0%``, ``any goal tier (80.0% / 90.0%)``; None without goals."""
    if contest.goals:
        return (
            f"any goal tier ({' / '.join(format_measure(g, contest.unit) for g in contest.goals)})"
        )
    if contest.goal is not None:
        return f"the goal of {format_measure(contest.goal, contest.unit)}"
    return None


def shared_by(message: Message, name: str) -> Message:
    """A leaderboard someone shared in a channel, saying who shared it."""
    line = (Span(f"Shared by {name}"),)
    return Message(text=message.text, blocks=(*message.blocks, Context((line,))))
