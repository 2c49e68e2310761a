"""What every chat command handler gets (``CommandContext``: who asks, from which platform,
at what time, with what configuration) and the replies they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from bot.chat.message import Message, Paragraph, Span
from bot.chat.views import usage_message
from bot.config import DeskboardConfig
from bot.core.command_parsing import USAGE, UsageError
from bot.core.links import TicketLink
from bot.core.sync import SyncReport
from metrics.contests import Contest
from metrics.windows import Window, named_window


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str  # the chat platform's user id
    member_key: str | None  # the technician this user is, when known
    is_admin: bool = False
    name: str | None = None  # what the audit list shows ("Jane Smith"), when known


def _ignore(_message: Message) -> None:
    return None


def _no_user(_text: str) -> str | None:
    return None


@dataclass(frozen=True)
class CommandContext:
    engine: Engine
    config: DeskboardConfig
    now: datetime
    platform: str  # "slack": whose chat user ids the storage holds
    caller: Caller
    ticket_link: TicketLink
    resolve_user: Callable[[str], str | None] = _no_user  # "@user" as typed → chat user id
    run_sync: Callable[[], SyncReport] | None = None
    progress: Callable[[Message], None] = _ignore  # an interim reply before slow work


def notice(text: str) -> Message:
    """A one-paragraph reply (confirmations, refusals)."""
    return Message(text=text, blocks=(Paragraph(((Span(text),),)),))


def usage_reply(error: UsageError) -> Message:
    return usage_message(
        command=f"/{error.command}", problem=error.problem, usage=USAGE[error.command]
    )


def period_window(ctx: CommandContext, period: str) -> Window:
    config = ctx.config
    return named_window(period, now=ctx.now, tz=config.tz, week_start=config.week_start_day)


def contest_window(ctx: CommandContext, contest: Contest, period: str | None) -> Window:
    if period is not None:
        return period_window(ctx, period)
    config = ctx.config
    return contest.window(now=ctx.now, tz=config.tz, week_start=config.week_start_day)


def unknown_caller() -> Message:
    return notice(
        "I don't know which technician you are: your chat account's email does not match "
        "one in ConnectWise. Ask a Deskboard admin to run /deskboard link @you IDENTIFIER."
    )
