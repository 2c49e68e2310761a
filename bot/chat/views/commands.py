"""Replies to ``/deskboard`` commands: usage, help, status and the contest list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.chat.formatting import (
    direction_text,
    format_date,
    format_moment,
    prize_text,
    qualifying_text,
)
from bot.chat.message import Message
from bot.chat.render import render
from bot.chat.views.common import (
    ContestLine,
    plural,
    shorten,
)
from metrics.contests import Contest

MAX_CONTESTS = 20  # contests listed by /deskboard contests
ERROR_CHARS = 300


def usage_message(*, command: str, problem: str | None, usage: str) -> Message:
    """The reply to unknown or malformed arguments."""
    problem_text = shorten(problem, 500) if problem else None
    return render(
        "usage",
        text=problem_text or f"Usage: {usage}",
        command=command,
        problem=problem_text,
        usage=usage,
    )


COMMANDS: tuple[tuple[str, str, bool], ...] = (
    (
        "/leaderboard [contest|metric] [today|week|month|quarter|year|last-month]",
        "ranked standings, only you see them; a button shares them",
        False,
    ),
    ("/mystats [period]", "your numbers, ranks and the tickets to fix", False),
    ("/deskboard contests", "the contests running and their rules", False),
    (
        "/deskboard contest list",
        "every contest, running, upcoming and ended, with its leaders",
        False,
    ),
    ("/deskboard status", "when the data was last synced", False),
    ("/deskboard optout", "show you as “a teammate” and send you no DMs", False),
    ("/deskboard optin", "show your name again", False),
    ("/deskboard help", "this list", False),
    ("/deskboard sync", "sync tickets from ConnectWise now", True),
    ("/deskboard link @user IDENTIFIER", "match a chat user to a ConnectWise member", True),
    ("/deskboard contest new", "create a contest in a form, with a live preview", True),
    ("/deskboard contest end NAME", "end a contest now and announce its winners", True),
    ("/deskboard changes", "who changed contests, scores and settings, and when", True),
    ("/deskboard board new NAME", "a wallboard for the office TV: its link, shown once", True),
    ("/deskboard board list", "the wallboards", True),
    ("/deskboard board revoke ID", "end a wallboard's link now", True),
)
"""(usage, what it does, admins only)."""


def help_message(*, is_admin: bool) -> Message:
    commands = [(u, d) for u, d, admin in COMMANDS if is_admin or not admin]
    return render(
        "help",
        text="Deskboard commands",
        commands=commands,
        admin_commands=is_admin,
    )


class SyncStatus(Protocol):
    """What the status view shows of the sync (``storage.sync_state.SyncStateView``)."""

    @property
    def watermark(self) -> datetime | None: ...
    @property
    def last_sync_started_at(self) -> datetime | None: ...
    @property
    def last_sync_finished_at(self) -> datetime | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def last_error_at(self) -> datetime | None: ...
    @property
    def boards_refreshed_at(self) -> datetime | None: ...
    @property
    def failing(self) -> bool: ...


class DeliveryStatus(Protocol):
    """What the status view shows of the outbox (``storage.outbox.DeliveryHealth``)."""

    @property
    def dead(self) -> int: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def last_error_at(self) -> datetime | None: ...


def status_message(
    *,
    state: SyncStatus,
    tickets: int,
    pending_outbox: int,
    tz: tzinfo,
    delivery: DeliveryStatus | None = None,
) -> Message:
    def when(moment: datetime | None) -> str:
        return "never" if moment is None else format_moment(moment, tz)

    error = shorten(state.last_error, ERROR_CHARS) if state.last_error else None
    delivery_error = (
        shorten(delivery.last_error, ERROR_CHARS)
        if delivery is not None and delivery.last_error
        else None
    )
    last = when(state.last_sync_finished_at)
    return render(
        "status",
        text=f"Last sync: {last}" + (" (the latest sync failed)" if state.failing else ""),
        last_sync=last,
        sync_started=when(state.last_sync_started_at),
        watermark=when(state.watermark),
        references=when(state.boards_refreshed_at),
        tickets=tickets,
        pending_outbox=pending_outbox,
        failing=state.failing,
        error=error,
        error_at=when(state.last_error_at),
        dead_outbox=delivery.dead if delivery is not None else 0,
        delivery_error=delivery_error,
        delivery_error_at=when(delivery.last_error_at) if delivery is not None else "",
    )


def _when(contest: Contest, now: datetime | None, tz: ZoneInfo, week_start: int) -> str:
    if contest.period is not None and now is not None:
        window = contest.window(now=now, tz=tz, week_start=week_start)
        return f"{contest.period.value}, now {window.label()}"
    if contest.period is not None:
        return contest.period.value
    if contest.start is not None and contest.end is not None:
        last = date.fromordinal(contest.end.toordinal() - 1)
        return f"{format_date(contest.start)} to {format_date(last)}"
    return ""


def _posts(channel: str | None, at: str | None) -> str | None:
    return (f"posts to {channel}" + (f" at {at}" if at else "")) if channel else None


def contests_message(
    contests: Sequence[Contest],
    *,
    tz: ZoneInfo,
    now: datetime | None = None,
    week_start: int = 0,
    posting: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> Message:
    """The configured contests: what each ranks on, its period, rules and where it posts
    (``posting``: contest name → its Slack channel and the cron text of its posts)."""
    posting = posting or {}
    lines = [
        ContestLine(
            name=c.name,
            label=c.label,
            when=_when(c, now, tz, week_start),
            rules=f"{prize_text(c)} · {qualifying_text(c)} · {direction_text(c.direction)}",
            posts=_posts(*posting.get(c.name, (None, None))),
        )
        for c in contests[:MAX_CONTESTS]
    ]
    return render(
        "contests",
        text=f"{plural(len(contests), 'contest')} configured",
        contests=lines,
        more=max(0, len(contests) - MAX_CONTESTS),
    )
