"""What every listener shares: the deps from the context, and replying with a ``Message``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.chat.message import Message
from bot.core.commands import notice
from bot.slack.blocks import to_slack
from bot.slack.deps import SlackDeps

FAILED = "Sorry, that did not work; the error is in Deskboard's log. Try again in a minute."


def ack_at_once(ack: Ack) -> None:
    """The ack half of every command, action and event: Slack hears back at once."""
    ack()


def acked(register: Callable[..., Any], work: Callable[..., None]) -> None:
    """Register ``work`` as a lazy listener behind ``ack_at_once`` (``register`` is e.g.
    ``app.command("/leaderboard")``): the ack runs on the request's thread, the work on
    Bolt's listener pool, after Slack has its answer. ``work`` must not call ``ack``."""
    register(ack=ack_at_once, lazy=[work])


def deps_of(context: BoltContext) -> SlackDeps:
    deps = context.get("deps")
    if not isinstance(deps, SlackDeps):
        raise RuntimeError("SlackDeps missing from the Bolt context: build the app with them")
    return deps


def reply(
    respond: Respond, message: Message, *, in_channel: bool = False, replace: bool = False
) -> None:
    """Answer through the request's ``response_url``: only the caller sees it unless
    ``in_channel``; ``replace`` overwrites the message the request came from."""
    text, blocks = to_slack(message)
    respond(
        text=text,
        blocks=blocks,
        response_type="in_channel" if in_channel else "ephemeral",
        replace_original=replace,
    )


def reply_text(respond: Respond, text: str) -> None:
    reply(respond, notice(text))


def user_id_of(body: dict[str, Any]) -> str:
    """The Slack user behind a command (``user_id``) or an interaction (``user.id``)."""
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id") or "")
    return str(body.get("user_id") or "")
