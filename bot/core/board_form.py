"""The "New board" form (README "The wallboard"): an admin names a wallboard, picks what it
shows (every running contest, or one) and its theme; saving makes the board and tells that
admin its link, once (Slack: a direct message; Teams: the card answering their click, which
Teams shows to whoever clicked). One form for every platform, drawn by the adapters as the
program's forms are (``bot.core.program_forms``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine

from bot.chat.form import Choice, ChoiceGroup, Form, FormField
from bot.chat.message import Message
from bot.config import DeskboardConfig
from bot.core.boards import THEMES, Board, new_board
from bot.core.command_context import notice

FORM_ID = "board"
NAME_MAX = 80
EVERY_CONTEST = "all"
ADMINS_ONLY = "Only Deskboard admins can make wallboards."


def board_link_notice(config: DeskboardConfig, board: Board, token: str) -> Message:
    """The new board's link, shown once: the token is never stored."""
    base = config.csat.public_url
    where = f"{base}/board/{token}" if base else f"/board/{token}"
    hint = "" if base else " (after the address of deskboard run; [csat] public_url sets it)"
    return notice(
        f"Board {board.id} “{board.name}”: open {where}{hint} on the TV. Keep the link: it "
        f"is shown only now. /deskboard board revoke {board.id} ends it."
    )


def board_form(
    config: DeskboardConfig,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    intro: Message | None = None,
) -> Form:
    values = values or {}
    running = [c.name for c in config.contest_list()]
    shows = (
        Choice("Every running contest, in turn", EVERY_CONTEST),
        *(Choice(name[:75], name) for name in running[:99]),
    )
    return Form(
        id=FORM_ID,
        title="New wallboard",
        submit="Make the board",
        fields=(
            FormField(
                "name",
                "Name",
                value=values.get("name", ""),
                placeholder="Office TV",
                hint="Where it hangs, so the list tells boards apart.",
            ),
            FormField(
                "shows",
                "Shows",
                kind="select",
                value=values.get("shows") or EVERY_CONTEST,
                groups=(ChoiceGroup("Contests", shows),),
            ),
            FormField(
                "theme",
                "Theme",
                kind="select",
                value=values.get("theme") or THEMES[0],
                groups=(ChoiceGroup("Themes", tuple(Choice(t.capitalize(), t) for t in THEMES)),),
            ),
        ),
        errors=dict(errors or {}),
        intro=intro,
    )


def submit_board(
    engine: Engine,
    config: DeskboardConfig,
    *,
    values: Mapping[str, str],
    is_admin: bool,
    actor: str,
    now: datetime,
) -> tuple[Board, Message] | Form:
    """Make the board and its link notice, or the form again with each problem beside its
    field."""
    if not is_admin:
        return board_form(config, values=values, errors={"name": ADMINS_ONLY})
    errors: dict[str, str] = {}
    name = " ".join(values.get("name", "").split())
    if not name:
        errors["name"] = "Give the board a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    shows = values.get("shows") or EVERY_CONTEST
    running = {c.name for c in config.contest_list()}
    if shows != EVERY_CONTEST and shows not in running:
        errors["shows"] = "That contest is not running any more: pick another."
    theme = values.get("theme") or THEMES[0]
    if theme not in THEMES:
        errors["theme"] = f"Pick {' or '.join(THEMES)}."
    if errors:
        return board_form(config, values=values, errors=errors)
    contests = () if shows == EVERY_CONTEST else (shows,)
    board, token = new_board(
        engine, name=name, contests=contests, theme=theme, actor=actor, now=now
    )
    return board, board_link_notice(config, board, token)
