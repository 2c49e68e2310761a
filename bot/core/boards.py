"""Wallboards (README "The wallboard"): the office TV's page of live standings.

- **Tokens.** A board is reached by ``/board/<token>``: 256 random bits (``secrets``), shown
  once when the board is made; only its SHA-256 is stored, looked up by that hash and
  compared in constant time. The token never expires (a TV cannot log in again); revoking
  the board ends it at once, in every process (each request reads the database).
- **What it shows** (``board_state``): each of the board's contests (all running ones when
  it names none) in its current window: ranked names, values, a bar for each (its share of
  the best value, so the leader's bar is full whichever way is better), the goal, who wins,
  the prize, "data as of", and a ticker of the latest kudos. Opted-out technicians show as
  "a teammate", as everywhere else. ``version`` changes when anything shown changes: the
  page's live stream sends a new state only then.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from bot.chat.formatting import format_measure, format_moment, prize_text
from bot.config import DeskboardConfig
from bot.core.people import people_directory
from bot.core.reports import standings_for_window
from metrics.contests import Contest
from metrics.definitions import Direction
from storage import boards as store
from storage import notices, ratings, repo
from storage.db import session_scope

TOKEN_BYTES = 32
THEMES = ("dark", "light")
MAX_RANKED = 10  # rows a TV can show readably
KUDOS_TICKER = 8
KUDOS_DAYS = 7


@dataclass(frozen=True, slots=True)
class Board:
    id: int
    name: str
    contests: tuple[str, ...]
    theme: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_board(
    engine: Engine,
    *,
    name: str,
    contests: Sequence[str],
    theme: str,
    actor: str,
    now: datetime,
) -> tuple[Board, str]:
    """Make a board; its token is returned once and never stored."""
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with session_scope(engine) as session:
        board_id = store.create_board(
            session,
            name=name,
            token_hash=token_hash(token),
            contests=contests,
            theme=theme,
            actor=actor,
            now=now,
        )
    return Board(board_id, name, tuple(contests), theme), token


def find_board(engine: Engine, token: str) -> Board | None:
    """The live board ``token`` opens, or None (unknown, malformed or revoked)."""
    if not token or len(token) > 200:
        return None
    wanted = token_hash(token)
    with session_scope(engine) as session:
        row = store.live_board(session, token_hash=wanted)
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    return Board(row.id, row.name, row.contests, row.theme)


def board_contests(config: DeskboardConfig, board: Board) -> list[Contest]:
    running = config.contest_list()
    if not board.contests:
        return list(running)
    wanted = [name.casefold() for name in board.contests]
    by_name = {c.name.casefold(): c for c in running}
    return [by_name[name] for name in wanted if name in by_name]


def _bar(value: float | None, values: Sequence[float], direction: Direction) -> float:
    """A bar's length in [0, 1]: the leader's is full."""
    if value is None or not values:
        return 0.0
    if direction is Direction.HIGHER:
        best = max(values)
        return max(0.0, min(1.0, value / best)) if best > 0 else 0.0
    best = min(values)
    return max(0.0, min(1.0, best / value)) if value > 0 else 1.0


def board_state(
    engine: Engine, config: DeskboardConfig, board: Board, *, now: datetime
) -> dict[str, Any]:
    """Everything the board shows, as JSON-ready data (see the module doc)."""
    directory = people_directory(engine, platform="board")
    shown = []
    for contest in board_contests(config, board):
        window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day)
        standings = standings_for_window(engine, config=config, contest=contest, window=window)
        ranked = standings.ranked[:MAX_RANKED]
        values = [s.value for s in standings.ranked if s.value is not None]
        section = config.contest_section(contest.name)
        shown.append(
            {
                "name": contest.name,
                "label": contest.label,
                "window": window.label(),
                "rules": prize_text(contest),
                "prize": section.prize if section is not None else None,
                "goal": None
                if contest.goal is None
                else format_measure(contest.goal, contest.unit),
                "goal_at": None
                if contest.goal is None
                else round(_bar(contest.goal, values, contest.direction), 4),
                "ranked": [
                    {
                        "rank": s.rank,
                        "name": directory.person(s.member).display,
                        "value": format_measure(s.value, contest.unit),
                        "bar": round(_bar(s.value, values, contest.direction), 4),
                        "winner": s.wins,
                    }
                    for s in ranked
                ],
                "more": max(0, len(standings.ranked) - len(ranked)),
            }
        )
    with session_scope(engine) as session:
        as_of = repo.data_as_of(session)
        kudos = notices.recent_kudos(
            session, since=now - timedelta(days=KUDOS_DAYS), limit=KUDOS_TICKER
        )
        tickets = {t.id: t for t in repo.get_tickets(session, ids=[k.ticket_id for k in kudos])}
    ticker = [
        {
            "name": directory.person(k.member_key).display,
            "ticket": k.ticket_id,
            "summary": (tickets[k.ticket_id].summary or "")[:120] if k.ticket_id in tickets else "",
        }
        for k in kudos
    ]
    comments = []
    if config.csat.share_comments:
        with session_scope(engine) as session:
            liked = ratings.positive_comments(
                session, since=now - timedelta(days=KUDOS_DAYS), limit=KUDOS_TICKER
            )
            rated = {
                t.id: t for t in repo.get_tickets(session, ids=[r.rating.ticket_id for r in liked])
            }
        for answer in liked:
            ticket = rated.get(answer.rating.ticket_id)
            credited = ticket.resolver_key if ticket is not None else None
            comments.append(
                {
                    "text": (answer.rating.comment or "")[:200],
                    "about": directory.person(credited).display if credited else None,
                }
            )
    state: dict[str, Any] = {
        "board": board.name,
        "theme": board.theme,
        "contests": shown,
        "ticker": ticker,
        "comments": comments,
        "as_of": None if as_of is None else f"Data as of {format_moment(as_of, config.tz)}",
    }
    digest = hashlib.sha256(repr(sorted(state.items())).encode()).hexdigest()[:16]
    state["version"] = digest
    return state


def revoke(engine: Engine, *, board_id: int, now: datetime) -> bool:
    with session_scope(engine) as session:
        return store.revoke_board(session, board_id=board_id, now=now)


def boards(engine: Engine) -> list[store.BoardRow]:
    with session_scope(engine) as session:
        return store.list_boards(session)
