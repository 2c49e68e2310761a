"""Mixed: signed commands and actions, 20 at a time, slow ones among fast ones; no ack missed.

The Slack app is built as in production (``build_slack_app``: HTTP mode, signature check,
acks on the request's thread and the work on the lazy-listener pool). ``/leaderboard year``
(the slowest query: a year of tickets), ``/leaderboard month``, ``/mystats``, ``/deskboard
help`` and "Share in channel" clicks are dispatched by ``CONCURRENCY`` threads at once, as
the HTTP adapter's thread pool would, each signed as Slack signs it. An ack is missed when
``App.dispatch`` does not answer 200 within Slack's 3 seconds; every request must also get
its response at the fake Slack (no work lost), and none may be the "did not work" apology.
The figures are the missed acks (goal 0), the slowest ack (goal ≤ 3 s) and the responses'
p99 (reported, no goal: slow queries take their time, but never another request's ack).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from slack_bolt import App

from bench.cases.command import NOW, build_app, caller_of, make_config, signed_slash, stored_tickets
from bench.core import CaseResult, Figure, Size, percentile
from bench.fake_slack import TEAM_ID, Arrival, FakeSlack, SlackUser
from bot.slack.listeners.replies import FAILED

CONCURRENCY = 20
ACK_LIMIT_S = 3.0
RESPONSE_TIMEOUT = 120.0
REQUESTS: dict[Size, int] = {"full": 300, "small": 40}
# (command, text) in the order they cycle: one slow year among fast ones
MIX: tuple[tuple[str, str], ...] = (
    ("/leaderboard", "year"),
    ("/deskboard", "help"),
    ("/mystats", ""),
    ("/leaderboard", "month"),
    ("share", "Most resolved|month"),
)


@dataclass(frozen=True)
class Sent:
    hook: str
    what: str
    status: int
    ack_s: float


def _body(command: str, text: str, *, hook: str, slack: FakeSlack, caller: SlackUser) -> str:
    common = {"team_id": TEAM_ID, "user_id": caller.id, "response_url": slack.response_url(hook)}
    if command != "share":
        return urlencode(
            {
                **common,
                "command": command,
                "text": text,
                "channel_id": "CSUPPORT",
                "trigger_id": "1.2.3",
            }
        )
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": caller.id},
        "channel": {"id": "CSUPPORT"},
        "response_url": slack.response_url(hook),
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "leaderboard_share", "value": text, "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)})


def send_mixed(app: App, slack: FakeSlack, *, caller: SlackUser, count: int) -> list[Sent]:
    def one(i: int) -> Sent:
        command, text = MIX[i % len(MIX)]
        hook = f"mixed-{i}"
        request = signed_slash(_body(command, text, hook=hook, slack=slack, caller=caller))
        began = time.perf_counter()
        response = app.dispatch(request)
        return Sent(hook, f"{command} {text}".strip(), response.status, time.perf_counter() - began)

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return list(pool.map(one, range(count)))


def _response_to(hook: str) -> Callable[[Arrival], bool]:
    return lambda arrival: arrival.method == "response" and arrival.hook == hook


def measure(engine_folder: Path, *, size: Size) -> CaseResult:
    engine = stored_tickets(engine_folder, size)
    config = make_config()
    count = REQUESTS[size]
    try:
        with FakeSlack() as slack:
            caller = caller_of(engine)
            slack.users.append(caller)
            app = build_app(engine, config=config, slack=slack, now=NOW)
            began = time.perf_counter()
            sent = send_mixed(app, slack, caller=caller, count=count)
            answered = [
                slack.wait_for(_response_to(s.hook), timeout=RESPONSE_TIMEOUT) for s in sent
            ]
    finally:
        engine.dispose()
    missed = [s for s in sent if s.status != 200 or s.ack_s > ACK_LIMIT_S]
    failed = [a.hook for a in answered if FAILED in json.dumps(a.params)]
    slowest = max(s.ack_s for s in sent)
    response_s = [a.at - began for a in answered]
    return CaseResult(
        case="mixed",
        size=size,
        figures=[
            Figure("missed acks", float(len(missed)), None, "", "0", not missed),
            Figure("slowest ack", slowest * 1000, None, "ms", "≤ 3000 ms", slowest <= ACK_LIMIT_S),
            Figure("responses p99", percentile(response_s, 99) * 1000, None, "ms", "—", True),
        ],
        numbers_agree=len(answered) == count and not failed,
        details={
            "requests": count,
            "concurrency": CONCURRENCY,
            "missed": [(s.what, s.status, round(s.ack_s, 3)) for s in missed[:10]],
            "answered": len(answered),
            "failed": failed[:10],
            "mix": [f"{c} {t}".strip() for c, t in MIX],
        },
    )


def run(size: Size) -> CaseResult:
    with tempfile.TemporaryDirectory(prefix="deskboard-bench-") as folder:
        return measure(Path(folder), size=size)
