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
from bot.core.command_context import notice
from bot.core.contest_admin import (
    ProgramCaller,
    Saved,
    contests_overview,
    end_contest,
    submit_contest,
)
from bot.core.contest_form import (
    FORM_ID,
    FormState,
    existing_form,
    form_with_preview,
    new_contest_form,
    previewed,
)
from bot.core.program import Actor
from bot.teams.cards import to_adaptive_card
from bot.teams.deps import TeamsDeps
from bot.teams.forms import PREVIEW_VERB, SAVE_VERB, card_values, form_card
from bot.teams.identity import PLATFORM, TeamsUser
from bot.teams.listeners.activity import card_response, text_response
from bot.teams.listeners.caller import command_context

LIST_VERB = "contest_list"
VERBS = frozenset(
    {
        LIST_VERB,
        "contest_new",
        "contest_edit",
        "contest_duplicate",
        "contest_end",
        f"{FORM_ID}_{SAVE_VERB}",
        f"{FORM_ID}_{PREVIEW_VERB}",
    }
)
ADMINS_ONLY = "Only Deskboard admins can change contests."


def contests_card(deps: TeamsDeps, *, admin: bool, note: Message | None = None) -> dict[str, Any]:
    """The contests card; it asks Teams to refresh it (``Action.Execute`` ``contest_list``)
    whenever it is shown again, so it never shows a stale list."""
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
    return card


def new_form_card(deps: TeamsDeps) -> dict[str, Any]:
    """``contest new``: the form, with today's preview of its defaults."""
    config = deps.fresh()
    form = new_contest_form(config, platform=PLATFORM)
    return form_card(previewed(deps.engine, config, form, platform=PLATFORM, now=deps.clock()))


async def caller_of(deps: TeamsDeps, ctx: ActivityContext[Any], sender: TeamsUser) -> ProgramCaller:
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
    if verb == "contest_new":
        return card_response(new_form_card(deps))
    if verb in ("contest_edit", "contest_duplicate"):
        config = deps.fresh()
        form = existing_form(
            deps.engine, config, name=name, platform=PLATFORM, duplicate=verb != "contest_edit"
        )
        if form is None:
            return text_response(f"There is no contest called “{name[:100]}” any more.")
        shown = previewed(deps.engine, config, form, platform=PLATFORM, now=deps.clock())
        return card_response(form_card(shown))
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
    if verb.endswith(PREVIEW_VERB):
        form = form_with_preview(
            deps.engine, deps.current, values=values, state=state, platform=PLATFORM,
            now=deps.clock(), show_errors=True,
        )  # fmt: skip
        return card_response(form_card(form))
    outcome = submit_contest(
        deps.engine, deps.fresh(), values=values, state=state, caller=caller, now=deps.clock()
    )
    if not isinstance(outcome, Saved):
        return card_response(form_card(outcome))
    deps.fresh()
    return card_response(contests_card(deps, admin=True, note=outcome.message))


async def on_program_verb(
    deps: TeamsDeps, ctx: ActivityContext[Any], sender: TeamsUser, verb: str, data: dict[str, Any]
) -> dict[str, Any]:
    caller = await caller_of(deps, ctx, sender)
    return await asyncio.to_thread(_work, deps, caller, verb, data)


__all__ = ["VERBS", "contests_card", "new_form_card", "notice", "on_program_verb"]
