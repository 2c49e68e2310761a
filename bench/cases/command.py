"""Command: a signed ``/leaderboard month`` through Bolt to the posted response.

The Slack app is built as in production (``build_slack_app``: HTTP mode, signature check,
the ack on the request's thread and the work lazily, every Web API call to
``SLACK_API_URL``), its Web API and the command's ``response_url`` pointing at a fake Slack
that stamps each arrival. Each request is signed like Slack signs it and handed to
``App.dispatch`` (what the HTTP adapter calls); the time runs from the dispatch to the
moment the fake Slack has the response: the ack, the caller's identity, the standings over
the stored tickets, the rendering and the POST to the ``response_url``. The requests go one
after another; the first one also asks Slack who the caller is (``users.info``), as the
first command of a day does.

There is no baseline (Slack's 3 s are the limit); the goals are a median of 300 ms and a p99
of 1 s. The numbers shown must equal the metric computed from the same tickets, both through
``storage.standings.member_values`` and by a plain SQL ``GROUP BY``.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, text

from bench.core import CaseResult, Figure, Size, median, percentile
from bench.fake_slack import TEAM_ID, Arrival, FakeSlack, SlackUser
from bot.config import DeskboardConfig, parse_config
from bot.core.derived import derive_fingerprint
from bot.settings import Settings
from bot.slack.app import build_slack_app
from bot.slack.deps import SlackDeps
from bot.slack.messenger import SlackMessenger
from metrics.categories import category_bits
from metrics.definitions import MetricRef
from metrics.waiting import WaitingRule
from metrics.windows import Window, named_window
from psa.connectwise.client import ConnectWiseClient
from psa.connectwise.mapping import map_member, map_tickets
from psa.connectwise.simulator import generate_msp
from storage import repo, rollups, standings
from storage.db import create_engine_for, migrate, session_scope

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
COMMAND = "/leaderboard"
TEXT = "month"
CONTEST = "Most resolved"
CALLER_ID = "UCALLER"
MEDIAN_GOAL_MS = 300.0
P99_GOAL_MS = 1000.0
RESPONSE_TIMEOUT = 30.0  # seconds: far beyond Slack's patience, only so a hang fails

REQUESTS: dict[Size, int] = {"full": 50, "small": 5}

# "*4. Blessing Okafor — 20* (20 resolved)" (the caller's own line is bold), ties included.
_RANK_LINE = re.compile(r"^\*?(\d+)\. (.+?) — (\d+)\*? \((\d+) resolved\)")


def make_config() -> DeskboardConfig:
    return parse_config(
        {
            "timezone": "America/Chicago",
            "contests": [{"name": CONTEST, "metric": "resolved", "period": "monthly"}],
        }
    )


def _no_connectwise() -> AbstractContextManager[ConnectWiseClient]:
    raise RuntimeError("/leaderboard never talks to ConnectWise")


def build_app(engine: Engine, *, config: DeskboardConfig, slack: FakeSlack, now: datetime) -> App:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_SIGNING_SECRET=SecretStr(SIGNING_SECRET),
        SLACK_BOT_TOKEN=SecretStr(BOT_TOKEN),
        SLACK_API_URL=slack.api_url,
    )
    web = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    deps = SlackDeps(
        engine=engine,
        config=config,
        settings=settings,
        clock=lambda: now,
        psa=_no_connectwise,
        messenger=SlackMessenger(web, engine=engine, clock=lambda: now),
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )
    return build_slack_app(deps=deps)


def signed_slash(body: str) -> BoltRequest:
    """The request as Slack sends it: ``v0=`` HMAC-SHA256 of the timestamped body."""
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    headers: dict[str, str | Sequence[str]] = {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-signature": [signature or ""],
        "x-slack-request-timestamp": [timestamp],
    }
    return BoltRequest(body=body, headers=headers)


def slash_body(*, response_url: str, caller: SlackUser, text: str = TEXT) -> str:
    return urlencode(
        {
            "token": "verification-token",
            "team_id": TEAM_ID,
            "team_domain": "bench",
            "channel_id": "CSUPPORT",
            "channel_name": "support",
            "user_id": caller.id,
            "user_name": caller.name,
            "command": COMMAND,
            "text": text,
            "api_app_id": "ABENCH",
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )


def caller_of(engine: Engine) -> SlackUser:
    """A Slack user with the email of the first technician that has one."""
    with session_scope(engine) as session:
        members = repo.list_members(session)
    member = next((m for m in members if m.email), None)
    if member is None:
        raise RuntimeError("the benchmark database has no technician with an email")
    return SlackUser(CALLER_ID, member.email or "", member.name or member.identifier)


def _for_hook(name: str) -> Callable[[Arrival], bool]:
    return lambda a: a.method == "response" and a.hook == name


def time_commands(
    app: App, slack: FakeSlack, *, caller: SlackUser, count: int, text: str = TEXT
) -> list[Arrival]:
    """Dispatch ``count`` commands one after another; each one's latency in the arrival's
    ``params["latency_s"]`` (seconds from the dispatch to the response at Slack)."""
    replies = []
    for i in range(count):
        hook = f"leaderboard-{text}-{i}"
        body = slash_body(response_url=slack.response_url(hook), caller=caller, text=text)
        request = signed_slash(body)
        began = time.perf_counter()
        acked = app.dispatch(request)
        if acked.status != 200:
            raise RuntimeError(f"{COMMAND} was not acked: HTTP {acked.status} {acked.body!r}")
        arrival = slack.wait_for(_for_hook(hook), timeout=RESPONSE_TIMEOUT)
        replies.append(Arrival(arrival.method, arrival.params, arrival.at - began, hook))
    return replies


# ---- the numbers the response shows, against the same numbers computed independently ------


def texts(node: Any) -> list[str]:
    """Every ``text`` string in Slack blocks, in order."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, item in node.items():
            if key == "text" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(texts(item))
    elif isinstance(node, list):
        for item in node:
            found.extend(texts(item))
    return found


def shown_rows(params: dict[str, Any]) -> list[tuple[int, str, int]]:
    """(rank, name, value) of each ranked line of the leaderboard, top first."""
    rows = []
    for block_text in texts(params.get("blocks") or []):
        for line in block_text.splitlines():
            match = _RANK_LINE.match(line.strip())
            if match is not None:
                rows.append((int(match.group(1)), match.group(2), int(match.group(3))))
    return rows


def month_window(config: DeskboardConfig, now: datetime, text: str = TEXT) -> Window:
    """The window ``/leaderboard TEXT`` names (``month``, ``year``)."""
    return named_window(text, now=now, tz=config.tz, week_start=config.week_start_day)


def expected_values(engine: Engine, *, config: DeskboardConfig, window: Window) -> dict[str, int]:
    """Resolved tickets per member in the window, through ``member_values``."""
    contest = next(c for c in config.contest_list() if c.name == CONTEST)
    refs: list[MetricRef] = list(contest.refs)
    with session_scope(engine) as session:
        values = standings.member_values(
            session,
            window=window,
            refs=refs,
            basis=config.metrics.time_basis,
            working_days=config.calendar().working_days(window.start, window.end),
            category_bits=category_bits(config.category_list()),
            excluded=config.excluded_members,
        )
    key = refs[0].key
    return {member: int(v.values[key] or 0) for member, v in values.items()}


def plain_sql_counts(engine: Engine, *, window: Window) -> dict[str, int]:
    """|R(m)| straight from the tickets table: the reference for ``member_values``."""
    start, end = window.utc()
    query = text(
        "SELECT resolver_key, COUNT(*) FROM tickets WHERE in_scope AND resolver_key IS NOT NULL"
        " AND resolved_at >= :start AND resolved_at < :end GROUP BY resolver_key"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"start": start, "end": end}).all()
    return {str(member): int(count) for member, count in rows}


def names_of(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return {m.key: m.name or m.identifier for m in repo.list_members(session)}


@dataclass(frozen=True)
class Agreement:
    agree: bool
    shown: list[tuple[int, str, int]]
    problem: str | None = None


def check_numbers(
    params: dict[str, Any], *, expected: dict[str, int], reference: dict[str, int],
    names: dict[str, str],
) -> Agreement:  # fmt: skip
    """The shown lines are the top of ``expected`` (values in order, each name with its own
    value), and ``expected`` equals the plain SQL reference for every member."""
    shown = shown_rows(params)
    if not shown:
        return Agreement(False, shown, "the response shows no ranked line")
    nonzero = {member: value for member, value in expected.items() if value}
    if nonzero != reference:
        return Agreement(False, shown, "member_values differs from the plain SQL GROUP BY")
    top = sorted(expected.values(), reverse=True)[: len(shown)]
    if [value for _, _, value in shown] != top:
        return Agreement(False, shown, f"shown values {shown} are not the top values {top}")
    by_name: dict[str, set[int]] = {}
    for member, value in expected.items():
        by_name.setdefault(names.get(member, member), set()).add(value)
    for rank, name, value in shown:
        if value not in by_name.get(name, set()):
            return Agreement(False, shown, f"{name} is shown with {value}")
        # competition ranking, higher is better: 1 + how many have strictly more
        if rank != 1 + sum(1 for other in expected.values() if other > value):
            return Agreement(False, shown, f"{name} is shown at rank {rank}")
    return Agreement(True, shown)


def measure(engine: Engine, *, size: Size, now: datetime, text: str = TEXT) -> CaseResult:
    """Time ``/leaderboard TEXT`` over the tickets in ``engine`` (``month``: the contest's
    window containing ``now``; ``year``: the year so far)."""
    config = make_config()
    count = REQUESTS[size]
    with FakeSlack() as slack:
        caller = caller_of(engine)
        slack.users.append(caller)
        app = build_app(engine, config=config, slack=slack, now=now)
        replies = time_commands(app, slack, caller=caller, count=count, text=text)
    latencies_ms = [reply.at * 1000 for reply in replies]
    window = month_window(config, now, text)
    agreement = check_numbers(
        replies[-1].params,
        expected=expected_values(engine, config=config, window=window),
        reference=plain_sql_counts(engine, window=window),
        names=names_of(engine),
    )
    mid, p99 = median(latencies_ms), percentile(latencies_ms, 99)
    with session_scope(engine) as session:
        tickets = repo.count_tickets(session)
    return CaseResult(
        case="command",
        size=size,
        figures=[
            Figure("median", mid, None, "ms", f"≤ {MEDIAN_GOAL_MS:g} ms", mid <= MEDIAN_GOAL_MS),
            Figure("p99", p99, None, "ms", f"≤ {P99_GOAL_MS:g} ms", p99 <= P99_GOAL_MS),
        ],
        numbers_agree=agreement.agree,
        details={
            "requests": count,
            "tickets": tickets,
            "window": window.label(),
            "first_ms": round(latencies_ms[0], 1),
            "max_ms": round(max(latencies_ms), 1),
            "shown": agreement.shown[:3],
            "problem": agreement.problem,
        },
    )


# ---- the stored tickets -----------------------------------------------------------------------
#
# A stand-in until ``bench.data`` (the shared 1,000,000-ticket builder) is there: one block
# of simulated tickets (deterministic by seed) goes through the repository like a sync's
# pages; the full size then copies that block in SQL under other technicians and other
# weeks until the table holds 1,000,000 tickets. A copy shifts every timestamp by whole
# weeks (the working week stays where it was) and renames its technicians, so the tickets
# of one month spread over ~200 technicians as on a large MSP's desk.

SEED = 5
NOW = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # a Friday evening; "month" is November
BLOCK_DAYS = 63  # nine weeks of simulated history per block
BLOCK_TICKETS_PER_WORKDAY = 120  # ~5,500 tickets a block
FULL_TICKETS = 1_000_000
TECHNICIAN_GROUPS = 13  # copies of the simulated MSP's 15 technicians: 195 in all
_KEYS = ("resolver_key", "responder_key", "owner_key")
_TIMES = ("entered_at", "updated_at", "responded_at", "resolved_at")


def _store_block(engine: Engine, config: DeskboardConfig) -> None:
    msp = generate_msp(
        seed=SEED,
        start=NOW - timedelta(days=BLOCK_DAYS),
        end=NOW,
        tickets_per_workday=BLOCK_TICKETS_PER_WORKDAY,
    )
    clock = int(NOW.timestamp())
    raws = [raw for raw in (t.render(clock, "") for t in msp.tickets) if raw is not None]
    records, _skipped = map_tickets(raws)
    params = config.derive_params()
    rule = WaitingRule(tuple(config.business_hours.waiting_statuses))
    with session_scope(engine) as session:
        repo.upsert_members(session, members=[map_member(m) for m in msp.members])
        repo.upsert_tickets(session, records=records, params=params, waiting_rule=rule)
        # what a sync records: the values are derived for this configuration
        repo.set_derive_fingerprint(session, fingerprint=derive_fingerprint(params, rule))


def _copy_expressions(columns: list[str], *, copy: int, group: int, weeks: int) -> list[str]:
    """SELECT expressions copying a ``base`` row as copy number ``copy``."""
    exprs = []
    for column in columns:
        if column == "id":
            exprs.append(f"id + {copy * 100_000}")
        elif column in _KEYS and group:
            exprs.append(f"{column} || '_{group}'")  # NULL stays NULL
        elif column in _TIMES and weeks:
            # SQLite's text timestamps: shift the seconds, keep the stored fraction.
            exprs.append(
                f"strftime('%Y-%m-%d %H:%M:%S', {column}, '-{7 * weeks} days')"
                f" || substr({column}, 20)"
            )
        else:
            exprs.append(column)
    return exprs


def _replicate(engine: Engine, *, total: int) -> None:
    """Copy the stored block under other technicians and weeks up to ``total`` tickets."""
    with engine.begin() as conn:
        block = int(conn.execute(text("SELECT COUNT(*) FROM tickets")).scalar_one())
        columns = [str(row[1]) for row in conn.execute(text("PRAGMA table_info(tickets)"))]
        conn.execute(text("CREATE TEMP TABLE base AS SELECT * FROM tickets"))
        copy, stored = 1, block
        while stored < total:
            group, period = copy % TECHNICIAN_GROUPS, copy // TECHNICIAN_GROUPS
            exprs = _copy_expressions(columns, copy=copy, group=group, weeks=period * 9)
            conn.execute(
                text(
                    f"INSERT INTO tickets ({', '.join(columns)}) SELECT {', '.join(exprs)}"
                    f" FROM base ORDER BY id LIMIT {min(block, total - stored)}"
                )
            )
            copy, stored = copy + 1, stored + min(block, total - stored)
        conn.execute(text("DROP TABLE base"))
        members = [str(row[1]) for row in conn.execute(text("PRAGMA table_info(members)"))]
        for group in range(1, TECHNICIAN_GROUPS):
            renamed = {
                "id": f"id + {group * 1000}",
                "identifier": f"identifier || '_{group}'",
                "key": f"key || '_{group}'",
                "name": f"name || ' {group}'",
                "email": f"'{group}.' || email",
            }
            exprs = [renamed.get(column, column) for column in members]
            conn.execute(
                text(
                    f"INSERT INTO members ({', '.join(members)})"
                    f" SELECT {', '.join(exprs)} FROM members WHERE id < 1000"
                )
            )


def stored_tickets(folder: Path, size: Size) -> Engine:
    """A fresh database holding ~5,500 tickets (small) or 1,000,000 (full), its day totals
    current as a sync leaves them."""
    engine = create_engine_for(f"sqlite:///{folder / 'deskboard.db'}")
    migrate(engine)
    _store_block(engine, make_config())
    if size == "full":
        _replicate(engine, total=FULL_TICKETS)
    rollups.refresh(engine, tz=make_config().tz)  # as the sync that stored them would end
    return engine


def run(size: Size) -> CaseResult:
    """``/leaderboard month``, then ``/leaderboard year`` over the same tickets."""
    with tempfile.TemporaryDirectory(prefix="deskboard-bench-") as folder:
        engine = stored_tickets(Path(folder), size)
        try:
            month = measure(engine, size=size, now=NOW)
            year = measure(engine, size=size, now=NOW, text="year")
        finally:
            engine.dispose()
    figures = [
        replace(figure, label=f"{text}: {figure.label}")
        for text, result in (("month", month), ("year", year))
        for figure in result.figures
    ]
    return CaseResult(
        case="command",
        size=size,
        figures=figures,
        numbers_agree=month.numbers_agree and year.numbers_agree,
        details={**month.details, "year": year.details},
    )
