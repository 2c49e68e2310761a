"""``/deskboard``: status, sync, contests, contest new|list|end, changes, link, optout, optin
and help."""

from __future__ import annotations

import logging

from bot.chat.message import Message
from bot.chat.views import contests_message as contests_view
from bot.chat.views import help_message, status_message
from bot.core.board_form import board_link_notice
from bot.core.boards import boards, new_board, revoke
from bot.core.command_context import CommandContext, notice, unknown_caller, usage_reply
from bot.core.command_parsing import MAX_NAMES_LISTED, DeskboardRequest, UsageError
from bot.core.contest_admin import (
    ProgramCaller,
    contests_overview,
    end_contest,
    new_contest_prompt,
    recent_changes,
)
from bot.core.program import Actor
from metrics.records import member_key
from storage import outbox, people, repo
from storage.db import session_scope

log = logging.getLogger(__name__)


ADMINS_BY_PLATFORM = {
    "slack": "workspace admins and owners, and the people listed in [slack] admins",
    "teams": "the people listed in [teams] admins",
}


def _admins_only(what: str, platform: str) -> Message:
    who = ADMINS_BY_PLATFORM.get(platform, "the people listed as admins")
    return notice(f"Only Deskboard admins can {what}: {who} of deskboard.toml.")


def _status(ctx: CommandContext) -> Message:
    with session_scope(ctx.engine) as session:
        state = repo.get_sync_state(session)
        tickets = repo.count_tickets(session)
        delivery = outbox.delivery_health(session)
    return status_message(
        state=state,
        tickets=tickets,
        pending_outbox=delivery.pending,
        tz=ctx.config.tz,
        delivery=delivery,
    )


def _sync(ctx: CommandContext) -> Message:
    if not ctx.caller.is_admin:
        return _admins_only("run a sync", ctx.platform)
    if ctx.run_sync is None:
        return notice("Sync is not available here: ConnectWise is not configured.")
    ctx.progress(notice("Syncing tickets from ConnectWise…"))
    try:
        report = ctx.run_sync()
    except Exception as exc:
        log.exception("sync requested from chat failed")
        return notice(f"The sync failed: {type(exc).__name__}: {str(exc)[:300]}")
    return notice(
        f"Sync finished: {report.inserted} new, {report.updated} changed, "
        f"{len(report.skipped)} skipped tickets."
    )


def _link(request: DeskboardRequest, ctx: CommandContext) -> Message:
    if not ctx.caller.is_admin:
        return _admins_only("link technicians to chat users", ctx.platform)
    user_id = ctx.resolve_user(request.user or "")
    if user_id is None:
        return usage_reply(
            UsageError(
                "deskboard",
                f"“{request.user}” is not a chat user: mention them (@name) or give their user id.",
            )
        )
    key = member_key(request.identifier)
    with session_scope(ctx.engine) as session:
        members = {m.key: m for m in repo.list_members(session)}
        member = members.get(key or "")
        if member is None:
            known = ", ".join(sorted(m.identifier for m in members.values())[:MAX_NAMES_LISTED])
            return usage_reply(
                UsageError(
                    "deskboard",
                    f"ConnectWise has no member “{request.identifier}” "
                    f"(members: {known or 'none'}).",
                )
            )
        people.set_chat_user(
            session,
            platform=ctx.platform,
            member_key=member.key,
            user_id=user_id,
            source="link",
            at=ctx.now,
        )
    return notice(f"Linked {member.name or member.identifier} ({member.identifier}) to that user.")


def _opt(ctx: CommandContext, *, out: bool) -> Message:
    member = ctx.caller.member_key
    if member is None:
        return unknown_caller()
    with session_scope(ctx.engine) as session:
        people.set_opt_out(session, member_key=member, opted_out=out, at=ctx.now)
    if out:
        return notice(
            "You are opted out: boards show you as “a teammate” and Deskboard sends you no DMs. "
            "/deskboard optin undoes it."
        )
    return notice("You are opted in again: boards show your name.")


def handle_board(action: str, arg: str | None, ctx: CommandContext) -> Message:
    """``/deskboard board new NAME|list|revoke ID`` (admins): the wallboards."""
    if action == "board_new":
        board, token = new_board(
            ctx.engine,
            name=arg or "Board",
            contests=(),
            theme="dark",
            actor=program_caller(ctx).actor.name,
            now=ctx.now,
        )
        return board_link_notice(ctx.config, board, token)
    if action == "board_revoke":
        board_id = int(arg or 0)
        if revoke(ctx.engine, board_id=board_id, now=ctx.now):
            return notice(f"Board {board_id} revoked: its link stops working now.")
        return notice(f"There is no live board {board_id} (/deskboard board list).")
    found = boards(ctx.engine)
    if not found:
        return notice("No boards: /deskboard board new NAME makes one.")
    lines = "; ".join(
        f"{b.id}: {b.name} ({', '.join(b.contests) or 'all running contests'}, {b.theme})"
        for b in found[:20]
    )
    return notice(f"Boards: {lines}")


def program_caller(ctx: CommandContext) -> ProgramCaller:
    """The caller of a command as the program's audit list names them."""
    who = ctx.caller.name or ctx.caller.user_id
    return ProgramCaller(
        actor=Actor(f"{who} ({ctx.platform} {ctx.caller.user_id})", ctx.platform),
        is_admin=ctx.caller.is_admin,
        platform=ctx.platform,
    )


def handle_deskboard(request: DeskboardRequest, ctx: CommandContext) -> Message:
    config = ctx.config
    match request.action:
        case "status":
            return _status(ctx)
        case "sync":
            return _sync(ctx)
        case "contests":
            deliveries = config.contest_deliveries()
            return contests_view(
                config.contest_list(),
                tz=config.tz,
                now=ctx.now,
                week_start=config.week_start_day,
                posting={name: (d.channel, d.post) for name, d in deliveries.items()},
            )
        case "contest_list":
            return contests_overview(
                ctx.engine, config, now=ctx.now, platform=ctx.platform, admin=ctx.caller.is_admin
            )
        case "contest_new":
            if not ctx.caller.is_admin:
                return _admins_only("create contests", ctx.platform)
            return new_contest_prompt()
        case "contest_end":
            _, message = end_contest(
                ctx.engine,
                config,
                name=request.name or "",
                caller=program_caller(ctx),
                now=ctx.now,
                platforms=(ctx.platform,),
            )
            return message
        case "board_new" | "board_list" | "board_revoke":
            if not ctx.caller.is_admin:
                return _admins_only("manage wallboards", ctx.platform)
            return handle_board(request.action, request.name, ctx)
        case "changes":
            if not ctx.caller.is_admin:
                return _admins_only("see the program's changes", ctx.platform)
            return recent_changes(ctx.engine, tz=config.tz)
        case "link":
            return _link(request, ctx)
        case "optout":
            return _opt(ctx, out=True)
        case "optin":
            return _opt(ctx, out=False)
        case "help":
            return help_message(is_admin=ctx.caller.is_admin)
