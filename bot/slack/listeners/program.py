"""Contests managed from Slack (README "Running a contest"): the buttons of the App Home's
admin tab and of ``/deskboard contest list`` (New contest, Edit, End now, Duplicate), the
contest modal with its live preview, and saving it.

Who may change the program is checked on every request (``is_admin`` each time), not only
when a modal opens. The work is ``bot.core.contest_admin``'s; this module only turns Slack's
payloads into its calls and its ``Form``s into modals.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.core.contest_admin import end_contest, revoke_board
from bot.core.contest_form import FormState
from bot.core.program import Actor
from bot.core.program_forms import (
    FORM_IDS,
    ProgramCaller,
    Saved,
    open_form,
    refresh_form,
    submit_form,
)
from bot.slack.deps import SlackDeps
from bot.slack.forms import form_errors, form_values, form_view
from bot.slack.identity import PLATFORM
from bot.slack.listeners.home import publish_home
from bot.slack.listeners.replies import FAILED, acked, deps_of, reply, reply_text, user_id_of

log = logging.getLogger(__name__)


def caller_of(deps: SlackDeps, client: WebClient, user_id: str) -> ProgramCaller:
    """Who is asking, with the admins as the program has them now (a stored admin removed a
    moment ago is refused)."""
    deps.fresh()
    identity = deps.identity(client)
    name = identity.display_name(user_id) or user_id
    return ProgramCaller(
        actor=Actor(f"{name} (slack {user_id})", "slack"),
        is_admin=identity.is_admin(user_id),
        platform=PLATFORM,
    )


def open_program_form(
    deps: SlackDeps,
    client: WebClient,
    *,
    user_id: str,
    trigger_id: str,
    form_id: str = "contest",
    name: str | None = None,
    duplicate: bool = False,
) -> str | None:
    """Open a form of the program (a new contest or score, or ``name``'s); the refusal
    text otherwise."""
    if not caller_of(deps, client, user_id).is_admin:
        return "Only Deskboard admins can change contests."
    form = open_form(
        deps.engine,
        deps.current,  # caller_of has just read the program's revision
        form_id=form_id,
        name=name,
        platform=PLATFORM,
        now=deps.clock(),
        duplicate=duplicate,
    )
    if form is None:
        return f"There is no {form_id} called “{(name or '')[:100]}” any more."
    client.views_open(trigger_id=trigger_id, view=form_view(form))
    return None


def _button(body: dict[str, Any]) -> tuple[str, str]:
    action = (body.get("actions") or [{}])[0]
    return str(action.get("action_id") or ""), str(action.get("value") or "")


def on_contest_button(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = user_id_of(body)
    action, value = _button(body)
    form_id, _, verb = action.partition("_")
    try:
        refused = open_program_form(
            deps,
            client,
            user_id=user_id,
            trigger_id=str(body.get("trigger_id") or ""),
            form_id=form_id,
            name=(value or None) if verb != "new" else None,
            duplicate=verb == "duplicate",
        )
    except Exception:
        log.exception("opening the contest form failed for %s", user_id)
        refused = FAILED
    if refused is not None:
        _tell(body, respond, client, user_id, refused)


def _tell(
    body: dict[str, Any], respond: Respond, client: WebClient, user_id: str, text: str
) -> None:
    """A short answer where the click came from: the message's thread, or a DM from Home."""
    if body.get("response_url") or (body.get("container") or {}).get("type") == "message":
        reply_text(respond, text)
    else:
        client.chat_postMessage(channel=user_id, text=text)


def on_contest_end(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = user_id_of(body)
    _, name = _button(body)
    try:
        caller = caller_of(deps, client, user_id)
        ended, message = end_contest(
            deps.engine,
            deps.current,  # caller_of has just read the program's revision
            name=name,
            caller=caller,
            now=deps.clock(),
            platforms=(PLATFORM,),
        )
        if ended and deps.live is not None:
            deps.live.refresh()
        if (body.get("view") or {}).get("type") == "home":
            publish_home(deps, client, user_id, tab="admin")
        if not ended or (body.get("view") or {}).get("type") != "home":
            if body.get("response_url"):
                reply(respond, message)
            else:
                client.chat_postMessage(channel=user_id, text=message.text)
    except Exception:
        log.exception("ending a contest failed for %s", user_id)
        _tell(body, respond, client, user_id, FAILED)


def _form_id(view: dict[str, Any]) -> str:
    """The form a modal is (its callback id is ``FORM_form``)."""
    form_id = str(view.get("callback_id") or "").removesuffix("_form")
    return form_id if form_id in FORM_IDS else "contest"


def on_board_revoke(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = user_id_of(body)
    _, value = _button(body)
    try:
        _, message = revoke_board(
            deps.engine,
            board_id=int(value) if value.isdigit() else 0,
            caller=caller_of(deps, client, user_id),
            now=deps.clock(),
        )
        if (body.get("view") or {}).get("type") == "home":
            publish_home(deps, client, user_id, tab="admin")
        _tell(body, respond, client, user_id, message.text)
    except Exception:
        log.exception("revoking a board failed for %s", user_id)
        _tell(body, respond, client, user_id, FAILED)


def on_form_change(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A field that refreshes the preview changed: the modal again, with today's standings
    under the settings as they are now."""
    deps = deps_of(context)
    view = body.get("view") or {}
    try:
        form = refresh_form(
            deps.engine,
            deps.current,
            form_id=_form_id(view),
            values=form_values(view),
            state=FormState.load(str(view.get("private_metadata") or "")),
            platform=PLATFORM,
            now=deps.clock(),
        )
        client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=form_view(form))
    except Exception:
        log.exception("refreshing the contest preview failed")


def on_submit(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Save the modal's contest, or keep it open with each problem beside its field."""
    deps = deps_of(context)
    user_id = user_id_of(body)
    view = body.get("view") or {}
    try:
        caller = caller_of(deps, client, user_id)
        outcome = submit_form(
            deps.engine,
            deps.current,  # caller_of has just read the program's revision
            form_id=_form_id(view),
            values=form_values(view),
            state=FormState.load(str(view.get("private_metadata") or "")),
            caller=caller,
            now=deps.clock(),
        )
    except Exception:
        log.exception("saving a %s failed for %s", _form_id(view), user_id)
        ack(response_action="errors", errors={"name": FAILED})
        return
    if not isinstance(outcome, Saved):
        ack(response_action="errors", errors=form_errors(outcome))
        return
    deps.fresh()  # this process applies it before Slack closes the modal; the others follow
    ack()
    try:
        client.chat_postMessage(channel=user_id, text=outcome.message.text)
        publish_home(deps, client, user_id, tab="admin")
    except Exception:
        log.exception("after saving contest %r", outcome.name)


def on_home_tab(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    _, tab = _button(body)
    user_id = user_id_of(body)
    try:
        publish_home(deps, client, user_id, tab=tab)
    except Exception:
        log.exception("switching the home tab failed for %s", user_id)


OPENERS = (
    "contest_new",
    "contest_edit",
    "contest_duplicate",
    "score_new",
    "score_edit",
    "board_new",
)


def register(app: App) -> None:
    for action in OPENERS:
        acked(app.action(action), on_contest_button)
    acked(app.action("contest_end"), on_contest_end)
    acked(app.action("board_revoke"), on_board_revoke)
    acked(app.action(re.compile(rf"^({'|'.join(FORM_IDS)})\.")), on_form_change)
    acked(app.action("home_tab"), on_home_tab)
    for form_id in FORM_IDS:
        app.view(f"{form_id}_form")(on_submit)
