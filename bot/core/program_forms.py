"""The program's forms by id, one path for every platform (README "Running a contest"):
opening a form (new, edit, duplicate), refreshing its preview, and saving it, for contests
(``bot.core.contest_form``) and scores (``bot.core.score_form``); and the "New board" form
(``bot.core.board_form``), which makes a wallboard rather than a program item.

Saving checks, in order: the caller is an admin (on every request); the item edited is
still at the revision the form opened on (else "Changed by X at HH:MM: reload"); the values
have the right form; the whole program with the change passes ``bot.config``'s rules. Only
then is the item stored, with its audit row, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.chat.form import Form
from bot.chat.message import Message
from bot.config import DeskboardConfig
from bot.core import board_form, contest_form, score_form
from bot.core.command_context import notice
from bot.core.program import Actor
from storage import program as store
from storage.db import session_scope

ADMINS_ONLY = "Only Deskboard admins can change contests."


@dataclass(frozen=True, slots=True)
class ProgramCaller:
    """Who is asking, as the adapter found out on this request."""

    actor: Actor
    is_admin: bool
    platform: str  # "slack", "teams"


@dataclass(frozen=True, slots=True)
class Saved:
    name: str
    message: Message
    created: bool


@dataclass(frozen=True, slots=True)
class FormKind:
    """What differs between the program's forms."""

    item: str  # the stored item's kind, and how messages name it
    body_of: Callable[
        [Mapping[str, str], Mapping[str, Any] | None], tuple[dict[str, Any], dict[str, str]]
    ]
    check: Callable[
        [DeskboardConfig, Mapping[str, Any], str | None],
        tuple[DeskboardConfig | None, dict[str, str]],
    ]
    form: Callable[..., Form]  # (config, platform, values, state, errors, intro)
    with_preview: Callable[..., Form]
    stored: Callable[[DeskboardConfig, str], dict[str, Any]]


def _contest_form(
    config: DeskboardConfig,
    platform: str,
    values: Mapping[str, str],
    state: contest_form.FormState,
    errors: Mapping[str, str],
    intro: Message | None,
) -> Form:
    return contest_form.contest_form(
        config, platform=platform, values=values, state=state, errors=errors, intro=intro
    )


def _score_form(
    config: DeskboardConfig,
    platform: str,
    values: Mapping[str, str],
    state: contest_form.FormState,
    errors: Mapping[str, str],
    intro: Message | None,
) -> Form:
    return score_form.score_form(config, values=values, state=state, errors=errors, intro=intro)


def _stored_contest(config: DeskboardConfig, name: str) -> dict[str, Any]:
    """The contest's settings as the validated configuration writes them (cron, not words)."""
    section = config.contest_section(name)
    assert section is not None
    return section.model_dump(mode="json", exclude_defaults=True, exclude_none=True)


def _stored_score(config: DeskboardConfig, name: str) -> dict[str, Any]:
    section = next(s for s in config.scores if s.name == name)
    return section.model_dump(mode="json", exclude_defaults=True, exclude_none=True)


def _score_with_preview(
    engine: Engine, config: DeskboardConfig, *, platform: str, **kwargs: Any
) -> Form:
    return score_form.score_form_with_preview(engine, config, platform=platform, **kwargs)


KINDS: dict[str, FormKind] = {
    contest_form.FORM_ID: FormKind(
        item="contest",
        body_of=lambda values, base: contest_form.body_of(values, base=base),
        check=lambda config, body, replacing: contest_form.check_contest(
            config, body, replacing=replacing
        ),
        form=_contest_form,
        with_preview=contest_form.form_with_preview,
        stored=_stored_contest,
    ),
    score_form.FORM_ID: FormKind(
        item="score",
        body_of=lambda values, base: score_form.body_of(values),
        check=lambda config, body, replacing: score_form.check_score(
            config, body, replacing=replacing
        ),
        form=_score_form,
        with_preview=_score_with_preview,
        stored=_stored_score,
    ),
}
FORM_IDS = (*KINDS, board_form.FORM_ID)


def open_form(
    engine: Engine,
    config: DeskboardConfig,
    *,
    form_id: str,
    name: str | None,
    platform: str,
    now: datetime,
    duplicate: bool = False,
) -> Form | None:
    """A form as it opens, with its preview: a new item's (``name`` None), a stored one's,
    or a copy of one (``duplicate``); None when ``name`` is not stored (any more)."""
    if form_id == board_form.FORM_ID:
        return board_form.board_form(config)
    if form_id == score_form.FORM_ID:
        form = (
            score_form.new_score_form(config)
            if name is None
            else score_form.existing_score_form(engine, config, name=name)
        )
    elif name is None:
        form = contest_form.new_contest_form(config, platform=platform)
    else:
        form = contest_form.existing_form(
            engine, config, name=name, platform=platform, duplicate=duplicate
        )
    if form is None:
        return None
    return refresh_form(
        engine,
        config,
        form_id=form_id,
        values={f.id: f.value for f in form.fields},
        state=contest_form.FormState.load(form.state),
        platform=platform,
        now=now,
    )


def refresh_form(
    engine: Engine,
    config: DeskboardConfig,
    *,
    form_id: str,
    values: Mapping[str, str],
    state: contest_form.FormState,
    platform: str,
    now: datetime,
    show_errors: bool = False,
) -> Form:
    """The form with today's preview under ``values`` (and their problems, when asked)."""
    if form_id == board_form.FORM_ID:
        return board_form.board_form(config, values=values)
    return KINDS[form_id].with_preview(
        engine, config, values=values, state=state, platform=platform, now=now,
        show_errors=show_errors,
    )  # fmt: skip


def _conflict_text(config: DeskboardConfig, by: str | None, at: datetime | None) -> str:
    if by is None or at is None:
        return "This was changed or removed meanwhile: reload it."
    return f"Changed by {by} at {at.astimezone(config.tz):%H:%M}: reload."


def submit_form(
    engine: Engine,
    config: DeskboardConfig,
    *,
    form_id: str,
    values: Mapping[str, str],
    state: contest_form.FormState,
    caller: ProgramCaller,
    now: datetime,
) -> Saved | Form:
    """Save the form's item, or the form again with each problem beside its field."""
    if form_id == board_form.FORM_ID:
        made = board_form.submit_board(
            engine, config, values=values, is_admin=caller.is_admin, actor=caller.actor.name,
            now=now,
        )  # fmt: skip
        if isinstance(made, Form):
            return made
        board, message = made
        return Saved(board.name, message, created=True)
    kind = KINDS[form_id]

    def again(errors: Mapping[str, str], intro: Message | None = None) -> Form:
        return kind.form(config, caller.platform, values, state, errors, intro)

    if not caller.is_admin:
        return again({"name": ADMINS_ONLY}, notice(ADMINS_ONLY))
    with session_scope(engine) as session:
        item = (
            store.get_item(session, kind=kind.item, name=state.name)
            if state.mode == "edit" and state.name is not None
            else None
        )
    if state.mode == "edit" and (item is None or item.revision != state.revision):
        text = _conflict_text(
            config, item.changed_by if item else None, item.changed_at if item else None
        )
        return again({"name": text}, notice(text))
    body, errors = kind.body_of(values, item.body if item else None)
    if errors:
        return again(errors)
    candidate, problems = kind.check(config, body, state.name)
    if candidate is None:
        return again(problems)
    name = body["name"]
    try:
        with session_scope(engine) as session:
            if item is None:
                store.create_item(
                    session,
                    kind=kind.item,
                    name=name,
                    body=kind.stored(candidate, name),
                    actor=caller.actor.name,
                    via=caller.actor.via,
                    now=now,
                )
            else:
                store.update_item(
                    session,
                    kind=kind.item,
                    name=item.name,
                    body=kind.stored(candidate, name),
                    expected_revision=state.revision,
                    actor=caller.actor.name,
                    via=caller.actor.via,
                    now=now,
                    new_name=name if name != item.name else None,
                )
    except store.StaleRevision as exc:
        text = _conflict_text(config, exc.changed_by, exc.changed_at)
        return again({"name": text}, notice(text))
    except IntegrityError:
        return again({"name": f"Another {kind.item} has this name."})
    verb = "created" if item is None else "saved"
    label = kind.item.capitalize()
    return Saved(name, notice(f"{label} “{name}” {verb}."), created=item is None)
