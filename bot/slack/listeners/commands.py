"""Slash commands (``/leaderboard``, ``/mystats``, ``/deskboard``) and "Share in channel".

Each is acked at once (Slack allows 3 s; ``replies.acked``), then works out who is asking
(``bot.slack.identity``), lets ``bot.core.commands`` answer, and replies through the
``response_url``: only the caller sees it. "Share in channel" posts the same leaderboard
for everyone in the channel the command was run in, naming who shared it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.chat.views import shared_by
from bot.core.commands import (
    Caller,
    CommandContext,
    DeskboardRequest,
    UsageError,
    handle,
    handle_share,
    parse_deskboard,
    usage_reply,
)
from bot.slack.deps import SlackDeps
from bot.slack.identity import PLATFORM, SlackIdentity
from bot.slack.listeners.program import open_program_form
from bot.slack.listeners.replies import (
    FAILED,
    ack_at_once,
    acked,
    deps_of,
    reply,
    reply_text,
    user_id_of,
)

log = logging.getLogger(__name__)

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def slack_user_of(text: str) -> str | None:
    """``<@U123|jane>`` or ``<@U123>`` (an escaped mention) or a bare ``U123`` → ``U123``."""
    text = text.strip()
    match = _MENTION.match(text)
    if match is not None:
        return match.group(1)
    return text if _USER_ID.match(text) else None


def command_context(
    deps: SlackDeps,
    identity: SlackIdentity,
    user_id: str,
    *,
    respond: Respond,
    admin_check: bool,
) -> CommandContext:
    return CommandContext(
        engine=deps.engine,
        config=deps.current,
        now=deps.clock(),
        platform=PLATFORM,
        caller=Caller(
            user_id=user_id,
            member_key=identity.member_for_user(user_id),
            is_admin=admin_check and identity.is_admin(user_id),
            name=identity.display_name(user_id) if admin_check else None,
        ),
        ticket_link=deps.ticket_link,
        resolve_user=slack_user_of,
        run_sync=deps.run_sync,
        progress=lambda message: reply(respond, message),
    )


def _opens_contest_form(text: str, deps: SlackDeps) -> bool:
    """``/deskboard contest new``: Slack can open the form straight from the command."""
    request = parse_deskboard(text, deps.current)
    return isinstance(request, DeskboardRequest) and request.action == "contest_new"


def _answer(
    name: str, *, admin_check: bool
) -> Any:  # a Bolt listener; Bolt injects arguments by name
    def listener(
        command: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        deps = deps_of(context)
        user_id = user_id_of(command)
        text = str(command.get("text") or "")
        if name == "deskboard" and _opens_contest_form(text, deps):
            try:
                refused = open_program_form(
                    deps, client, user_id=user_id, trigger_id=str(command.get("trigger_id") or "")
                )
            except Exception:
                log.exception("/deskboard contest new failed for %s", user_id)
                refused = FAILED
            if refused is not None:
                reply_text(respond, refused)
            return
        try:
            ctx = command_context(
                deps, deps.identity(client), user_id, respond=respond, admin_check=admin_check
            )
            message = handle(name, text, ctx)
        except Exception:
            log.exception("/%s failed for %s", name, user_id)
            reply_text(respond, FAILED)
            return
        reply(respond, message)

    listener.__name__ = f"on_{name}"
    return listener


def on_share(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = user_id_of(body)
    actions = body.get("actions") or [{}]
    value = str(actions[0].get("value") or "")
    try:
        identity = deps.identity(client)
        ctx = command_context(deps, identity, user_id, respond=respond, admin_check=False)
        shared = handle_share(value, ctx)
        if isinstance(shared, UsageError):
            reply(respond, usage_reply(shared))
            return
        name = identity.display_name(user_id) or "a teammate"
        reply(respond, shared_by(shared, name), in_channel=True)
    except Exception:
        log.exception("sharing a leaderboard failed for %s", user_id)
        reply_text(respond, FAILED)


def register(app: App) -> None:
    acked(app.command("/leaderboard"), _answer("leaderboard", admin_check=False))
    acked(app.command("/mystats"), _answer("mystats", admin_check=False))
    acked(app.command("/deskboard"), _answer("deskboard", admin_check=True))
    acked(app.action("leaderboard_share"), on_share)
    app.action("mystats_page")(ack_at_once)  # a link button: Slack opens the page itself
