"""The chat commands, platform-neutral: ``/leaderboard``, ``/mystats`` and ``/deskboard``.

Parsing (``parse_*``) turns the text after a command into a request or a ``UsageError``;
handling (``handle_*``) answers a request with a ``bot.chat.Message`` built by
``bot.chat.views``. Slack (and a Teams adapter) only say who is asking (``Caller``: the chat
user, the technician it maps to, whether they are an admin) and supply what only the
platform can do (resolve an ``@user``, run a sync). Every reply is meant for the caller
alone; ``/leaderboard`` adds a "Share in channel" button whose value
(``share_value``) lets ``handle_share`` rebuild the same standings for everyone.

- ``/leaderboard [contest|metric] [period]``: a contest by name (case-insensitive, several
  words allowed), or a metric key (``METRIC@CATEGORY`` too), a metric label or a score name,
  which gives an ad-hoc places contest over the period (default: this month). A period word
  (``today``, ``week``, ``last-month``, "last month", ...) replaces a contest's own window.
  No argument: the first configured contest, else resolved tickets this month.
- ``/mystats [period]``: the caller's values of every metric (default: this month), rank in
  each contest (over the same period when one is given, else each contest's own), and the
  tickets that drag a metric down. An opted-out technician sees their own name here, and
  is "a teammate" everywhere else.
- ``/deskboard status|sync|contests|link @user IDENTIFIER|optout|optin|help``: ``sync`` and
  ``link`` only for admins.

The commands live in one module per concept: parsing (``bot.core.command_parsing``), the
context and shared replies (``bot.core.command_context``), the standings commands
(``bot.core.command_standings``) and ``/deskboard`` (``bot.core.command_admin``). This module
routes a command to them and keeps their public names importable from here.
"""

from __future__ import annotations

from bot.chat.message import Message
from bot.core.command_admin import ADMINS_BY_PLATFORM, handle_deskboard
from bot.core.command_context import Caller, CommandContext, notice, usage_reply
from bot.core.command_parsing import (
    DEFAULT_METRIC,
    DESKBOARD_USAGE,
    LEADERBOARD_USAGE,
    MAX_NAMES_LISTED,
    MYSTATS_USAGE,
    USAGE,
    DeskboardAction,
    DeskboardRequest,
    LeaderboardRequest,
    MystatsRequest,
    UsageError,
    is_period_word,
    parse_deskboard,
    parse_leaderboard,
    parse_mystats,
)
from bot.core.command_standings import (
    DEFAULT_PERIOD,
    MAX_DRAG_TICKETS,
    drag_tickets,
    handle_leaderboard,
    handle_mystats,
    handle_share,
    share_value,
)

__all__ = [
    "ADMINS_BY_PLATFORM",
    "DEFAULT_METRIC",
    "DEFAULT_PERIOD",
    "DESKBOARD_USAGE",
    "LEADERBOARD_USAGE",
    "MAX_DRAG_TICKETS",
    "MAX_NAMES_LISTED",
    "MYSTATS_USAGE",
    "USAGE",
    "Caller",
    "CommandContext",
    "DeskboardAction",
    "DeskboardRequest",
    "LeaderboardRequest",
    "MystatsRequest",
    "UsageError",
    "drag_tickets",
    "handle",
    "handle_deskboard",
    "handle_leaderboard",
    "handle_mystats",
    "handle_share",
    "is_period_word",
    "notice",
    "parse_deskboard",
    "parse_leaderboard",
    "parse_mystats",
    "share_value",
    "usage_reply",
]


def handle(command: str, args: str, ctx: CommandContext) -> Message:
    """Answer ``command`` ("leaderboard", "mystats", "deskboard"; a leading "/" is fine)."""
    name = command.strip().lstrip("/").casefold()
    if name == "leaderboard":
        board = parse_leaderboard(args, ctx.config)
        return (
            usage_reply(board) if isinstance(board, UsageError) else handle_leaderboard(board, ctx)
        )
    if name == "mystats":
        stats = parse_mystats(args, ctx.config)
        return usage_reply(stats) if isinstance(stats, UsageError) else handle_mystats(stats, ctx)
    if name == "deskboard":
        desk = parse_deskboard(args, ctx.config)
        return usage_reply(desk) if isinstance(desk, UsageError) else handle_deskboard(desk, ctx)
    raise ValueError(f"unknown command {command!r}")
