"""Parsing the chat commands: the text after ``/leaderboard``, ``/mystats`` or ``/deskboard``
becomes a request or a ``UsageError`` (what ``bot.core.commands`` answers is described there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import DeskboardConfig
from bot.core.reports import database_needs
from metrics.contests import Contest, ContestKind
from metrics.definitions import METRICS, MetricRef
from metrics.scores import Score
from metrics.windows import Period, named_window

LEADERBOARD_USAGE = "/leaderboard [contest|metric] [today|week|month|quarter|year|last-month]"
MYSTATS_USAGE = "/mystats [today|week|month|quarter|year|last-month]"
DESKBOARD_USAGE = (
    "/deskboard status|sync|contests|contest new|contest list|contest end NAME|changes|"
    "board new NAME|board list|board revoke ID|link @user IDENTIFIER|optout|optin|help"
)
USAGE = {"leaderboard": LEADERBOARD_USAGE, "mystats": MYSTATS_USAGE, "deskboard": DESKBOARD_USAGE}
DEFAULT_METRIC = "resolved"
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


DeskboardAction = Literal[
    "status",
    "sync",
    "contests",
    "contest_new",
    "contest_list",
    "contest_end",
    "changes",
    "board_new",
    "board_list",
    "board_revoke",
    "link",
    "optout",
    "optin",
    "help",
]
_SIMPLE_ACTIONS: tuple[DeskboardAction, ...] = (
    "status",
    "sync",
    "contests",
    "changes",
    "optout",
    "optin",
    "help",
)


@dataclass(frozen=True, slots=True)
class DeskboardRequest:
    action: DeskboardAction
    user: str | None = None  # link: the chat user as typed (a mention)
    identifier: str | None = None  # link: the ConnectWise member identifier
    name: str | None = None  # contest end: the contest's name as typed


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
    if action == "board":
        sub, _, rest_of = rest.strip().partition(" ")
        sub, rest_of = sub.casefold(), rest_of.strip()
        if sub == "new" and rest_of:
            return DeskboardRequest("board_new", name=rest_of.strip("\"'“”‘’")[:100])
        if sub == "list" and not rest_of:
            return DeskboardRequest("board_list")
        if sub == "revoke" and rest_of.isdigit():
            return DeskboardRequest("board_revoke", name=rest_of)
        return UsageError("deskboard", "board takes new NAME, list or revoke ID.")
    if action == "contest":
        sub, _, name = rest.strip().partition(" ")
        sub = sub.casefold()
        if sub in ("new", "list") and not name.strip():
            return DeskboardRequest("contest_new" if sub == "new" else "contest_list")
        if sub == "end" and name.strip():
            return DeskboardRequest("contest_end", name=name.strip().strip("\"'“”‘’"))
        if sub == "end":
            return UsageError("deskboard", "contest end needs the contest's name.")
        return UsageError("deskboard", "contest takes new, list or end NAME.")
    for known in _SIMPLE_ACTIONS:
        if action == known:
            if rest.strip():
                return UsageError("deskboard", f"{action} takes no arguments.")
            return DeskboardRequest(known)
    return UsageError("deskboard", f"Unknown subcommand “{action}”.")
