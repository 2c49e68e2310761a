"""Contests managed from Teams (README "Running a contest"): the contests card for admins
(New contest, Edit, End now, Duplicate; it refreshes itself with ``Action.Execute``) and the
contest form card, each click answered by the card it leads to (the invoke response
replaces the card). The work is ``bot.core.contest_admin``'s, as on Slack; who may change
the program is checked on every click."""

from __future__ import annotations

import asyncio
from typing import Any

from microsoft_teams.apps import ActivityContext

from bot.chat.message import Message
from bot.core.contest_admin import contests_overview, end_contest, revoke_board
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
from bot.teams.cards import to_adaptive_card
from bot.teams.deps import TeamsDeps
from bot.teams.forms import PREVIEW_VERB, SAVE_VERB, card_values, form_card
from bot.teams.identity import PLATFORM, TeamsUser
from bot.teams.listeners.activity import card_response, text_response
from bot.teams.listeners.caller import command_context

LIST_VERB = "contest_list"
OPENERS = frozenset(
    {"contest_new", "contest_edit", "contest_duplicate", "score_new", "score_edit", "board_new"}
)
VERBS = frozenset(
    {
        LIST_VERB,
        "contest_end",
        "board_revoke",
        *OPENERS,
        *(f"{form_id}_{SAVE_VERB}" for form_id in FORM_IDS),
        *(f"{form_id}_{PREVIEW_VERB}" for form_id in FORM_IDS),
    }
)
ADMINS_ONLY = "Only Deskboard admins can change contests."


def contests_card(
    deps: TeamsDeps, *, admin: bool, note: Message | None = None, viewer: str | None = None
) -> dict[str, Any]:
    """The contests card; it asks Teams to refresh it (``Action.Execute`` ``contest_list``)
    whenever it is shown again, so it never shows a stale list (in a channel or group chat,
    for ``viewer``: Teams refreshes there only for the users a card names)."""
    message = contests_overview(
        deps.engine, deps.current, now=deps.clock(), platform=PLATFORM, admin=admin
    )
    if note is not None:
        message = Message(message.text, note.blocks + message.blocks)
    card = to_adaptive_card(message)
    card["refresh"] = {
        "action": {
            "type": "Action.Execute",
            "title": "Refresh",
            "verb": LIST_VERB,
            "data": {"action": LIST_VERB},
        }
    }
    if viewer:
        card["refresh"]["userIds"] = [viewer]
    return card


def form_card_of(
    deps: TeamsDeps, *, form_id: str = "contest", name: str | None = None, duplicate: bool = False
) -> dict[str, Any] | None:
    """A form of the program as it opens (``contest new``: a new contest's), with its
    preview; None when ``name`` is not stored (any more)."""
    form = open_form(
        deps.engine,
        deps.fresh(),
        form_id=form_id,
        name=name,
        platform=PLATFORM,
        now=deps.clock(),
        duplicate=duplicate,
    )
    return None if form is None else form_card(form)


async def caller_of(deps: TeamsDeps, ctx: ActivityContext[Any], sender: TeamsUser) -> ProgramCaller:
    """Who is asking, with the admins as the program has them now."""
    await asyncio.to_thread(deps.fresh)
    cmd = await command_context(deps, ctx, sender)
    user = deps.roster.get(sender.id) or sender
    return ProgramCaller(
        actor=Actor(f"{user.name or sender.id} (teams {sender.id})", "teams"),
        is_admin=cmd.caller.is_admin,
        platform=PLATFORM,
    )


def _work(
    deps: TeamsDeps, caller: ProgramCaller, verb: str, data: dict[str, Any]
) -> dict[str, Any]:
    if verb == LIST_VERB:
        return card_response(contests_card(deps, admin=caller.is_admin))
    if not caller.is_admin:
        return text_response(ADMINS_ONLY)
    name = str(data.get("value") or "")
    if verb in OPENERS:
        form_id, _, how = verb.partition("_")
        card = form_card_of(
            deps, form_id=form_id, name=None if how == "new" else name, duplicate=how == "duplicate"
        )
        if card is None:
            return text_response(f"There is no {form_id} called “{name[:100]}” any more.")
        return card_response(card)
    if verb == "board_revoke":
        revoked, message = revoke_board(
            deps.engine, board_id=int(name) if name.isdigit() else 0, caller=caller,
            now=deps.clock(),
        )  # fmt: skip
        if not revoked:
            return text_response(message.text)
        return card_response(contests_card(deps, admin=True, note=message))
    if verb == "contest_end":
        ended, message = end_contest(
            deps.engine, deps.fresh(), name=name, caller=caller, now=deps.clock(),
            platforms=(PLATFORM,),
        )  # fmt: skip
        if not ended:
            return text_response(message.text)
        deps.fresh()
        return card_response(contests_card(deps, admin=True, note=message))
    values = card_values(data)
    state = FormState.load(str(data.get("state") or ""))
    form_id = verb.rpartition("_")[0]
    if verb.endswith(PREVIEW_VERB):
        form = refresh_form(
            deps.engine, deps.current, form_id=form_id, values=values, state=state,
            platform=PLATFORM, now=deps.clock(), show_errors=True,
        )  # fmt: skip
        return card_response(form_card(form))
    outcome = submit_form(
        deps.engine, deps.fresh(), form_id=form_id, values=values, state=state, caller=caller,
        now=deps.clock(),
    )  # fmt: skip
    if not isinstance(outcome, Saved):
        return card_response(form_card(outcome))
    deps.fresh()
    return card_response(contests_card(deps, admin=True, note=outcome.message))


async def on_program_verb(
    deps: TeamsDeps, ctx: ActivityContext[Any], sender: TeamsUser, verb: str, data: dict[str, Any]
) -> dict[str, Any]:
    caller = await caller_of(deps, ctx, sender)
    return await asyncio.to_thread(_work, deps, caller, verb, data)


__all__ = ["VERBS", "contests_card", "form_card_of", "on_program_verb"]
