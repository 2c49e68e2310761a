"""The program's messages (README "Running a contest"): the contests list for admins (the
App Home's admin tab, ``/deskboard contest list``, the Teams contests card), a contest's
preview under a form, the audit list, and a new contest's announcement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, tzinfo

from bot.chat.formatting import format_moment
from bot.chat.message import Message
from bot.chat.render import render
from bot.chat.views.common import plural, shorten

MAX_PER_STATUS = 10  # contests listed under running / upcoming / ended
MAX_PREVIEW = 5
MAX_CHANGES = 15
MAX_KEY = 2000  # a button's value: the contest's name (Slack allows 2,000 characters)
STATUSES = (("running", "Running"), ("upcoming", "Upcoming"), ("ended", "Ended"))


@dataclass(frozen=True, slots=True)
class ContestRow:
    """A contest in the admin list."""

    name: str
    status: str  # "running", "upcoming", "ended"
    label: str  # what it ranks on
    when: str
    rules: str
    leaders: str | None  # the current (or final) top three, in words
    posts: str | None  # "posts to #service every weekday at 9:00"
    prize: str | None


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """A score in the admin list: its name and formula in words."""

    name: str
    formula: str


@dataclass(frozen=True, slots=True)
class BoardLine:
    """A wallboard in the admin list (its token is never shown again)."""

    id: int
    name: str
    contests: str
    theme: str


def contests_admin_message(
    rows: Sequence[ContestRow],
    *,
    admin: bool,
    as_of: str,
    changed: str | None = None,
    scores: Sequence[ScoreRow] = (),
    boards: Sequence[BoardLine] = (),
) -> Message:
    """Every contest by status, with its leaders, then the scores; admins get New contest,
    Edit, End now and Duplicate, New score and Edit (everyone can read it)."""
    sections = []
    for status, title in STATUSES:
        mine = [r for r in rows if r.status == status]
        sections.append(
            {
                "title": title,
                "rows": [
                    {**asdict(r), "name": shorten(r.name, 150), "key": r.name[:MAX_KEY]}
                    for r in mine[:MAX_PER_STATUS]
                ],
                "more": max(0, len(mine) - MAX_PER_STATUS),
            }
        )
    return render(
        "contests_admin",
        text=f"{plural(len(rows), 'contest')}",
        sections=sections,
        admin=admin,
        as_of=as_of,
        changed=changed,
        scores=[
            {
                "name": shorten(r.name, 150),
                "key": r.name[:MAX_KEY],
                "formula": shorten(r.formula, 300),
            }
            for r in scores[:MAX_PER_STATUS]
        ],
        more_scores=max(0, len(scores) - MAX_PER_STATUS),
        boards=[
            {**asdict(b), "name": shorten(b.name, 100), "contests": shorten(b.contests, 200)}
            for b in boards[:MAX_PER_STATUS]
        ],
    )


def contest_preview_message(
    *, lines: Sequence[str], qualified: int, rules: str, window: str, problem: str | None = None
) -> Message:
    """Today's standings under a form's settings, before saving."""
    return render(
        "contest_preview",
        text="Preview",
        lines=[shorten(line, 200) for line in lines[:MAX_PREVIEW]],
        more=max(0, qualified - MAX_PREVIEW),
        rules=rules,
        window=window,
        problem=problem,
    )


@dataclass(frozen=True, slots=True)
class ChangeLine:
    at: datetime
    actor: str
    action: str
    what: str  # "contest Clean tickets"
    detail: str | None  # "goal 90 → 95"


def changes_message(changes: Sequence[ChangeLine], *, tz: tzinfo) -> Message:
    return render(
        "changes",
        text=f"{plural(len(changes), 'change')} to the program",
        changes=[
            {
                "at": format_moment(c.at, tz),
                "actor": shorten(c.actor, 80),
                "action": c.action,
                "what": shorten(c.what, 120),
                "detail": shorten(c.detail, 300) if c.detail else None,
            }
            for c in changes[:MAX_CHANGES]
        ],
    )


def contest_announcement_message(
    *, name: str, label: str, rules: str, when: str, prize: str | None, posts: str | None
) -> Message:
    return render(
        "contest_announce",
        text=f"New contest: {shorten(name, 150)}",
        contest=shorten(name, 150),
        label=label,
        rules=rules,
        when=when,
        prize=shorten(prize, 500) if prize else None,
        posts=posts,
    )
