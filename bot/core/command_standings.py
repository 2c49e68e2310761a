"""The standings commands: ``/leaderboard`` (and its "Share in channel" button) and
``/mystats``."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Engine

from bot.chat.message import Actions, Button, Message
from bot.chat.views import (
    DragTicket,
    RankRow,
    leaderboard_message,
    mystats_message,
    rank_row,
    stat_rows,
)
from bot.core.command_context import (
    CommandContext,
    contest_window,
    period_window,
    unknown_caller,
)
from bot.core.command_parsing import (
    LeaderboardRequest,
    MystatsRequest,
    UsageError,
    parse_leaderboard,
)
from bot.core.links import TicketLink
from bot.core.people import people_directory
from bot.core.personal_links import LINK_DAYS, personal_token
from bot.core.reports import metrics_from_database, standings_for_window
from metrics.triggers import NudgeReason
from metrics.windows import Window, window_for_dates
from storage import repo
from storage.db import session_scope

DEFAULT_PERIOD = "month"
MAX_DRAG_TICKETS = 1000  # read for /mystats; the view lists the first few and counts the rest


def share_value(request: LeaderboardRequest, window: Window) -> str:
    """What the "Share in channel" button carries: the query and the window's dates."""
    start = window.start.date().isoformat()
    end = window.end.astimezone(window.start.tzinfo).date().isoformat()
    return json.dumps({"q": request.query, "from": start, "to": end}, separators=(",", ":"))


def handle_leaderboard(request: LeaderboardRequest, ctx: CommandContext) -> Message:
    window = contest_window(ctx, request.contest, request.period)
    return _leaderboard(ctx, request, window, caller=ctx.caller.member_key, shareable=True)


def _leaderboard(
    ctx: CommandContext,
    request: LeaderboardRequest,
    window: Window,
    *,
    caller: str | None,
    shareable: bool,
) -> Message:
    config = ctx.config
    standings = standings_for_window(
        ctx.engine, config=config, contest=request.contest, window=window
    )
    directory = people_directory(ctx.engine, platform=ctx.platform)
    keys = {s.member for s in (*standings.ranked, *standings.not_qualified)}
    return leaderboard_message(
        standings,
        people=directory.people(keys),
        caller=caller,
        shareable=shareable,
        share_value=share_value(request, window) if shareable else "",
        tz=config.tz,
    )


def handle_share(value: str, ctx: CommandContext) -> Message | UsageError:
    """The leaderboard a "Share in channel" button stands for, for everyone to see."""
    try:
        data = json.loads(value)
        start, end = date.fromisoformat(data["from"]), date.fromisoformat(data["to"])
        query = str(data["q"])
        window = window_for_dates(start, end, ctx.config.tz)
    except (ValueError, KeyError, TypeError):
        return UsageError("leaderboard", "That button is from an older message; run it again.")
    parsed = parse_leaderboard(query, ctx.config)
    if isinstance(parsed, UsageError):
        return parsed
    return _leaderboard(ctx, parsed, window, caller=None, shareable=False)


def drag_tickets(
    engine: Engine, *, member: str, window: Window, ticket_link: TicketLink
) -> list[DragTicket]:
    """The member's resolved tickets in the window that pull a metric down, newest first:
    uncategorized, without an agreement, or in the catch-all company (the nudge reasons)."""
    start, end = window.utc()
    with session_scope(engine) as session:
        rows = repo.dragging_tickets(
            session, resolver_key=member, start=start, end=end, limit=MAX_DRAG_TICKETS
        )
    drags = []
    for row in rows:
        found = {
            NudgeReason.UNCATEGORIZED: not row.categorized,
            NudgeReason.NO_AGREEMENT: row.no_agreement and not row.catchall,
            NudgeReason.CATCHALL: row.catchall,
        }
        drags.append(
            DragTicket(
                ticket_id=row.ticket_id,
                summary=row.summary or "",
                company=row.company_name or row.company or "",
                reasons=tuple(r.value for r in NudgeReason if found[r]),
                ticket_url=ticket_link(row.ticket_id),
            )
        )
    return drags


def handle_mystats(request: MystatsRequest, ctx: CommandContext) -> Message:
    member = ctx.caller.member_key
    if member is None:
        return unknown_caller()
    config = ctx.config
    window = period_window(ctx, request.period or DEFAULT_PERIOD)
    report = metrics_from_database(
        ctx.engine, config=config, window=window, basis=config.metrics.time_basis
    )
    own = report.members.get(member)
    rows = stat_rows(report.metrics, own.values if own is not None else {})
    ranks: list[RankRow] = []
    for contest in config.contest_list():
        its_window = contest_window(ctx, contest, request.period)
        standings = standings_for_window(
            ctx.engine, config=config, contest=contest, window=its_window
        )
        row = rank_row(standings, member)
        if row is not None:
            ranks.append(row)
    drags = drag_tickets(ctx.engine, member=member, window=window, ticket_link=ctx.ticket_link)
    directory = people_directory(ctx.engine, platform=ctx.platform)
    message = mystats_message(
        person=directory.person(member, viewer=member),
        window_label=window.label(),
        rows=rows,
        ranks=ranks,
        drags=drags,
        as_of=report.data_as_of,
        tz=config.tz,
    )
    base = config.csat.public_url
    if base is None:
        return message
    token = personal_token(ctx.engine, member=member, now=ctx.now)
    page = Button(
        f"Your page (link valid {LINK_DAYS} days)", "mystats_page", url=f"{base}/me/{token}"
    )
    return Message(message.text, (*message.blocks, Actions((page,), block_id="mystats_page")))
