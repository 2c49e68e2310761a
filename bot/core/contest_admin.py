"""Managing contests from chat (README "Running a contest"): saving the contest form
(``bot.core.contest_form``) with the same validation as deskboard.toml, "End now", the
contests list and the audit list.

One path for Slack and Teams: the adapters render the ``Form`` (a modal, an Adaptive Card),
hand back the submitted values by field id, and show what comes back.

- **Permissions.** Every change checks ``ProgramCaller.is_admin`` here, on each request (a
  form opened by an admin who lost the role since is refused on save).
- **Validation.** The submitted values become a contest as deskboard.toml writes it; the
  whole program with that contest is validated by ``bot.config``'s rules, and each problem is
  reported beside its field.
- **Conflicts.** A form carries the revision of the contest it edits; saving over a newer
  revision is refused with "Changed by X at HH:MM: reload", never silently overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import Engine

from bot.chat.formatting import format_measure, rule_text, score_formula
from bot.chat.message import Actions, Button, Message
from bot.chat.views.program import (
    MAX_CHANGES,
    BoardLine,
    ChangeLine,
    ContestRow,
    ScoreRow,
    changes_message,
    contests_admin_message,
)
from bot.config import DeskboardConfig
from bot.config_schedule import post_words
from bot.core.boards import boards, revoke
from bot.core.command_context import notice
from bot.core.people import people_directory
from bot.core.posting import queue_winners
from bot.core.program import FILE_ACTOR, SEED_ACTOR, describe_change, doc_of, what
from bot.core.program_forms import ProgramCaller
from bot.core.reports import standings_for_window
from metrics.contests import Contest
from storage import program as store
from storage.db import session_scope

# ---- saving -------------------------------------------------------------------------------------


def end_contest(
    engine: Engine,
    config: DeskboardConfig,
    *,
    name: str,
    caller: ProgramCaller,
    now: datetime,
    platforms: Sequence[str],
) -> tuple[bool, Message]:
    """Stop a contest now ("End now"): it leaves the running list and its schedule, and the
    winners of its window so far are queued at once (``bot.core.posting.queue_winners``),
    with the rules they were decided under."""
    if not caller.is_admin:
        return False, notice("Only Deskboard admins can end a contest.")
    with session_scope(engine) as session:
        item = store.get_item(session, kind="contest", name=name)
        if item is None:
            wanted = name.casefold()
            match = [
                i
                for i in store.list_items(session)
                if i.kind == "contest" and i.name.casefold() == wanted
            ]
            item = match[0] if match else None
        if item is None:
            known = ", ".join(c.name for c in config.contest_list()) or "none"
            return False, notice(f"There is no contest called “{name}” (running: {known}).")
        if item.body.get("ended"):
            return False, notice(f"“{item.name}” has ended already.")
        store.update_item(
            session,
            kind="contest",
            name=item.name,
            body={**item.body, "ended": now.isoformat()},
            expected_revision=None,
            actor=caller.actor.name,
            via=caller.actor.via,
            now=now,
            action="ended",
        )
        doc = doc_of(store.list_items(session))
    queue_winners(engine, config=config.with_program(doc), now=now, platforms=platforms)
    return True, notice(f"“{item.name}” has ended; its winners so far are being announced.")


# ---- the list ----------------------------------------------------------------------------


def contest_status(config: DeskboardConfig, contest: Contest, *, now: datetime) -> str:
    section = config.contest_section(contest.name)
    if section is not None and section.ended is not None:
        return "ended"
    if contest.period is None and contest.start is not None and contest.end is not None:
        today = now.astimezone(config.tz).date()
        if today < contest.start:
            return "upcoming"
        if today >= contest.end:
            return "ended"
    return "running"


def _when(config: DeskboardConfig, contest: Contest, now: datetime) -> str:
    section = config.contest_section(contest.name)
    if contest.period is not None:
        window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day)
        text = f"{contest.period.value}, now {window.label()}"
    else:
        start, end = contest.start, contest.end
        assert start is not None
        assert end is not None
        last = end - timedelta(days=1)
        text = f"{start:%a %d %b %Y} to {last:%a %d %b %Y}"
    if section is not None and section.ended is not None:
        text += f"; ended {section.ended.astimezone(config.tz):%a %d %b %H:%M}"
    return text


def contest_rows(
    engine: Engine, config: DeskboardConfig, *, now: datetime, platform: str
) -> list[ContestRow]:
    """Every contest with its status and current (or final) top three."""
    directory = people_directory(engine, platform=platform)
    rows = []
    for contest in config.all_contests():
        status = contest_status(config, contest, now=now)
        section = config.contest_section(contest.name)
        leaders: str | None = None
        if status == "running":
            window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day)
            standings = standings_for_window(engine, config=config, contest=contest, window=window)
            leaders = (
                " · ".join(
                    f"{s.rank}. {directory.person(s.member).display} "
                    f"{format_measure(s.value, contest.unit)}"
                    for s in standings.ranked[:3]
                )
                or None
            )
        elif status == "ended":
            with session_scope(engine) as session:
                results = store.contest_results(session, contest=contest.name, limit=1)
            if results:
                leaders = (
                    ", ".join(directory.person(m).display for m in results[0].winners[:3])
                    or "no winner"
                )
        target = (
            (section.channel if platform == "slack" else section.teams_channel) if section else None
        )
        posts = None
        if target:
            schedule = post_words(section.post) if section and section.post else None
            posts = f"posts to {target}" + (f" {schedule}" if schedule else "")
        rows.append(
            ContestRow(
                name=contest.name,
                status=status,
                label=contest.label,
                when=_when(config, contest, now),
                rules=rule_text(contest),
                leaders=leaders,
                posts=posts,
                prize=section.prize if section else None,
            )
        )
    return rows


def contests_overview(
    engine: Engine, config: DeskboardConfig, *, now: datetime, platform: str, admin: bool
) -> Message:
    """The contests list (App Home's admin tab, ``/deskboard contest list``, Teams' card)."""
    rows = contest_rows(engine, config, now=now, platform=platform)
    with session_scope(engine) as session:
        latest = store.list_changes(session, limit=1)
    changed = None
    if latest and latest[0].actor not in (FILE_ACTOR, SEED_ACTOR):
        c = latest[0]
        changed = (
            f"Last change: {c.actor} {c.action} {c.kind} “{c.name[:80]}” "
            f"at {c.at.astimezone(config.tz):%a %d %b %H:%M}"
        )
    scores = [ScoreRow(score.name, score_formula(score)) for score in config.score_list()]
    walls = (
        [
            BoardLine(b.id, b.name, ", ".join(b.contests) or "all running contests", b.theme)
            for b in boards(engine)
        ]
        if admin
        else []
    )
    return contests_admin_message(
        rows,
        scores=scores,
        boards=walls,
        admin=admin,
        as_of=f"As of {now.astimezone(config.tz):%a %d %b %H:%M %Z}",
        changed=changed,
    )


__all__ = [
    "contest_rows",
    "contest_status",
    "contests_overview",
    "end_contest",
    "new_contest_prompt",
    "recent_changes",
]


def revoke_board(
    engine: Engine, *, board_id: int, caller: ProgramCaller, now: datetime
) -> tuple[bool, Message]:
    """A board's Revoke button (admins): its link stops working now."""
    if not caller.is_admin:
        return False, notice("Only Deskboard admins can revoke wallboards.")
    if revoke(engine, board_id=board_id, now=now):
        return True, notice(f"Board {board_id} revoked: its link stops working now.")
    return False, notice(f"There is no live board {board_id}.")


def new_contest_prompt() -> Message:
    """``/deskboard contest new`` where the platform cannot open the form from a command
    (the adapters open it directly where they can): a button that opens it."""
    return Message(
        text="New contest",
        blocks=(
            *notice("Create a contest: name, metric, period, who wins, prize and channel.").blocks,
            Actions((Button("New contest", "contest_new", "", "primary"),)),
        ),
    )


def recent_changes(engine: Engine, *, tz: tzinfo, limit: int = MAX_CHANGES) -> Message:
    """``/deskboard changes``: the latest changes to the program, who made them and when."""
    with session_scope(engine) as session:
        found = store.list_changes(session, limit=limit)
    return changes_message(
        [
            ChangeLine(
                at=c.at,
                actor=c.actor,
                action=c.action,
                what=what(c.kind, c.name),
                detail=describe_change(c.before, c.after) or None,
            )
            for c in found
        ],
        tz=tz,
    )
