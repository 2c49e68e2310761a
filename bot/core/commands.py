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
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, false, or_, select, true

from bot.chat.message import Message, Paragraph, Span
from bot.chat.views import (
    DragTicket,
    RankRow,
    help_message,
    leaderboard_message,
    mystats_message,
    rank_row,
    stat_rows,
    status_message,
    usage_message,
)
from bot.chat.views import (
    contests_message as contests_view,
)
from bot.config import DeskboardConfig
from bot.core.links import TicketLink
from bot.core.people import people_directory
from bot.core.reports import database_needs, metrics_from_database, standings_for_window
from bot.core.sync import SyncReport
from metrics.contests import Contest, ContestKind
from metrics.definitions import METRICS, MetricRef
from metrics.records import member_key
from metrics.scores import Score
from metrics.triggers import NudgeReason
from metrics.windows import Period, Window, named_window, window_for_dates
from storage import outbox, people, repo
from storage.db import session_scope
from storage.tables import TICKETS

log = logging.getLogger(__name__)

LEADERBOARD_USAGE = "/leaderboard [contest|metric] [today|week|month|quarter|year|last-month]"
MYSTATS_USAGE = "/mystats [today|week|month|quarter|year|last-month]"
DESKBOARD_USAGE = "/deskboard status|sync|contests|link @user IDENTIFIER|optout|optin|help"
USAGE = {"leaderboard": LEADERBOARD_USAGE, "mystats": MYSTATS_USAGE, "deskboard": DESKBOARD_USAGE}
DEFAULT_PERIOD = "month"
DEFAULT_METRIC = "resolved"
MAX_DRAG_TICKETS = 1000  # read for /mystats; the view lists the first few and counts the rest
MAX_NAMES_LISTED = 12


# ---- requests -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageError:
    command: str  # "leaderboard", "mystats" or "deskboard"
    problem: str | None


@dataclass(frozen=True, slots=True)
class LeaderboardRequest:
    contest: Contest
    period: str | None  # a window word replacing the contest's own window
    query: str  # the contest or metric as typed ("" for the default), for the share button


@dataclass(frozen=True, slots=True)
class MystatsRequest:
    period: str | None


DeskboardAction = Literal["status", "sync", "contests", "link", "optout", "optin", "help"]
_SIMPLE_ACTIONS: tuple[DeskboardAction, ...] = (
    "status",
    "sync",
    "contests",
    "optout",
    "optin",
    "help",
)


@dataclass(frozen=True, slots=True)
class DeskboardRequest:
    action: DeskboardAction
    user: str | None = None  # link: the chat user as typed (a mention)
    identifier: str | None = None  # link: the ConnectWise member identifier


# ---- parsing --------------------------------------------------------------------------------


def _clean(args: str) -> str:
    """Command text as typed: chat platforms send ``&``, ``<``, ``>`` as entities."""
    text = args.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def _fold(text: str) -> str:
    return " ".join(text.strip().strip("\"'“”‘’").split()).casefold()


_PROBE_NOW = datetime(2000, 1, 1, tzinfo=UTC)


def is_period_word(word: str) -> bool:
    """Whether ``metrics.windows.named_window`` knows ``word`` (``week``, ``last-month``...)."""
    try:
        named_window(word, now=_PROBE_NOW, tz=ZoneInfo("UTC"))
    except ValueError:
        return False
    return True


def _split_period(text: str) -> tuple[str, str | None]:
    """``"Clean tickets last month"`` → ``("Clean tickets", "last-month")``."""
    words = text.split()
    for size in (2, 1):
        if len(words) >= size:
            tail = "-".join(words[-size:])
            if is_period_word(tail):
                return " ".join(words[:-size]), "-".join(tail.casefold().split())
    return text, None


def _adhoc(name: str, target: MetricRef | Score) -> Contest:
    return Contest(name=name, target=target, kind=ContestKind.PLACES, period=Period.MONTHLY)


def _metric_ref(text: str, config: DeskboardConfig) -> MetricRef | None:
    """A metric key or label, optionally ``@CATEGORY``, all case-insensitive."""
    name, _, category = text.partition("@")
    wanted = _fold(name)
    metric = next((m for m in METRICS if wanted in (m.key, m.label.casefold())), None)
    if metric is None:
        return None
    if not category:
        return None if "@" in text else MetricRef(metric)
    found = next((c for c in config.categories if c.casefold() == _fold(category)), None)
    return MetricRef(metric, found) if found is not None else None


def _target(text: str, config: DeskboardConfig) -> Contest | str | None:
    """The contest ``text`` names, an ad-hoc one on the metric or score it names, a reason
    it cannot be used (str), or None when it names nothing."""
    wanted = _fold(text)
    for contest in config.contest_list():
        if _fold(contest.name) == wanted:
            return contest
    for score in config.score_list():
        if _fold(score.name) == wanted:
            return _adhoc(score.name, score)
    ref = _metric_ref(text, config)
    if ref is None:
        return None
    missing = ref.metric.needs - database_needs(config)
    if missing:
        return f"{ref.metric.key} needs ticket notes: set [connectwise] sync_notes = true"
    label = ref.metric.label if ref.category is None else f"{ref.metric.label} ({ref.category})"
    return _adhoc(label, ref)


def _default_contest(config: DeskboardConfig) -> Contest:
    contests = config.contest_list()
    if contests:
        return contests[0]
    ref = MetricRef(next(m for m in METRICS if m.key == DEFAULT_METRIC))
    return _adhoc(ref.metric.label, ref)


def _known_names(config: DeskboardConfig) -> str:
    names = [c.name for c in config.contest_list()][:MAX_NAMES_LISTED]
    contests = ", ".join(names) if names else "none configured"
    return f"contests: {contests}; or a metric such as resolved, categorized_pct"


def parse_leaderboard(args: str, config: DeskboardConfig) -> LeaderboardRequest | UsageError:
    text = _clean(args)
    if not text:
        return LeaderboardRequest(_default_contest(config), None, "")
    found = _target(text, config)
    period: str | None = None
    query = text
    if found is None:
        query, period = _split_period(text)
        if period is not None and not query:
            return LeaderboardRequest(_default_contest(config), period, "")
        found = _target(query, config) if period is not None else None
    if isinstance(found, str):
        return UsageError("leaderboard", found)
    if found is None:
        return UsageError(
            "leaderboard",
            f"There is no contest or metric called “{query}” ({_known_names(config)}).",
        )
    return LeaderboardRequest(found, period, query)


def parse_mystats(args: str, config: DeskboardConfig) -> MystatsRequest | UsageError:
    text = _clean(args)
    if not text:
        return MystatsRequest(None)
    word = "-".join(text.split())
    if is_period_word(word):
        return MystatsRequest(word.casefold())
    return UsageError("mystats", f"“{text}” is not a period.")


_LINK = re.compile(r"^(<@[^>]+>|\S+)\s+(\S+)$")


def parse_deskboard(args: str, config: DeskboardConfig) -> DeskboardRequest | UsageError:
    text = _clean(args)
    if not text:
        return DeskboardRequest("help")
    action, _, rest = text.partition(" ")
    action = action.casefold()
    if action == "link":
        match = _LINK.match(rest.strip())
        if match is None:
            return UsageError("deskboard", "link needs a user and a member: link @user IDENTIFIER")
        return DeskboardRequest("link", user=match.group(1), identifier=match.group(2))
    for known in _SIMPLE_ACTIONS:
        if action == known:
            if rest.strip():
                return UsageError("deskboard", f"{action} takes no arguments.")
            return DeskboardRequest(known)
    return UsageError("deskboard", f"Unknown subcommand “{action}”.")


# ---- handling -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str  # the chat platform's user id
    member_key: str | None  # the technician this user is, when known
    is_admin: bool = False


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


def _window(ctx: CommandContext, period: str) -> Window:
    config = ctx.config
    return named_window(period, now=ctx.now, tz=config.tz, week_start=config.week_start_day)


def _contest_window(ctx: CommandContext, contest: Contest, period: str | None) -> Window:
    if period is not None:
        return _window(ctx, period)
    config = ctx.config
    return contest.window(now=ctx.now, tz=config.tz, week_start=config.week_start_day)


def share_value(request: LeaderboardRequest, window: Window) -> str:
    """What the "Share in channel" button carries: the query and the window's dates."""
    start = window.start.date().isoformat()
    end = window.end.astimezone(window.start.tzinfo).date().isoformat()
    return json.dumps({"q": request.query, "from": start, "to": end}, separators=(",", ":"))


def handle_leaderboard(request: LeaderboardRequest, ctx: CommandContext) -> Message:
    window = _contest_window(ctx, request.contest, request.period)
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
    t = TICKETS.c
    start, end = window.utc()
    query = (
        select(
            t.id, t.summary, t.company_name, t.company, t.categorized, t.no_agreement, t.catchall
        )
        .where(
            t.resolver_key == member,
            t.in_scope == true(),
            t.resolved_at >= start,
            t.resolved_at < end,
            or_(t.categorized == false(), t.no_agreement == true(), t.catchall == true()),
        )
        .order_by(t.resolved_at.desc(), t.id.desc())
        .limit(MAX_DRAG_TICKETS)
    )
    with session_scope(engine) as session:
        rows = session.execute(query).all()
    drags = []
    for ticket_id, summary, company_name, company, categorized, no_agreement, catchall in rows:
        found = {
            NudgeReason.UNCATEGORIZED: not categorized,
            NudgeReason.NO_AGREEMENT: no_agreement and not catchall,
            NudgeReason.CATCHALL: catchall,
        }
        drags.append(
            DragTicket(
                ticket_id=ticket_id,
                summary=summary or "",
                company=company_name or company or "",
                reasons=tuple(r.value for r in NudgeReason if found[r]),
                ticket_url=ticket_link(ticket_id),
            )
        )
    return drags


def _unknown_caller() -> Message:
    return notice(
        "I don't know which technician you are: your chat account's email does not match "
        "one in ConnectWise. Ask a Deskboard admin to run /deskboard link @you IDENTIFIER."
    )


def handle_mystats(request: MystatsRequest, ctx: CommandContext) -> Message:
    member = ctx.caller.member_key
    if member is None:
        return _unknown_caller()
    config = ctx.config
    window = _window(ctx, request.period or DEFAULT_PERIOD)
    report = metrics_from_database(
        ctx.engine, config=config, window=window, basis=config.metrics.time_basis
    )
    own = report.members.get(member)
    rows = stat_rows(report.metrics, own.values if own is not None else {})
    ranks: list[RankRow] = []
    for contest in config.contest_list():
        contest_window = _contest_window(ctx, contest, request.period)
        standings = standings_for_window(
            ctx.engine, config=config, contest=contest, window=contest_window
        )
        row = rank_row(standings, member)
        if row is not None:
            ranks.append(row)
    drags = drag_tickets(ctx.engine, member=member, window=window, ticket_link=ctx.ticket_link)
    directory = people_directory(ctx.engine, platform=ctx.platform)
    return mystats_message(
        person=directory.person(member, viewer=member),
        window_label=window.label(),
        rows=rows,
        ranks=ranks,
        drags=drags,
        as_of=report.data_as_of,
        tz=config.tz,
    )


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
        return _unknown_caller()
    with session_scope(ctx.engine) as session:
        people.set_opt_out(session, member_key=member, opted_out=out, at=ctx.now)
    if out:
        return notice(
            "You are opted out: boards show you as “a teammate” and Deskboard sends you no DMs. "
            "/deskboard optin undoes it."
        )
    return notice("You are opted in again: boards show your name.")


def handle_deskboard(request: DeskboardRequest, ctx: CommandContext) -> Message:
    config = ctx.config
    match request.action:
        case "status":
            return _status(ctx)
        case "sync":
            return _sync(ctx)
        case "contests":
            return contests_view(
                config.contest_list(), tz=config.tz, now=ctx.now, week_start=config.week_start_day
            )
        case "link":
            return _link(request, ctx)
        case "optout":
            return _opt(ctx, out=True)
        case "optin":
            return _opt(ctx, out=False)
        case "help":
            return help_message(is_admin=ctx.caller.is_admin)


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
