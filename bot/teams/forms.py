"""A chat-neutral ``Form`` as an Adaptive Card (README "Running a contest"): one input per
field (the input's id is the field's), its hint and its error under it, the preview below,
and Save / Preview as ``Action.Execute`` whose data carries the form's state. Teams sends the
inputs' values with the click, and the invoke response replaces the card: the same card
again with its errors, or what the save led to.

Adaptive Cards have no option groups: a select's choices carry their group as a prefix
("SLA · Avg response (min)"). Dates are text inputs (YYYY-MM-DD), checked like the rest.
"""

from __future__ import annotations

from typing import Any

from bot.chat.form import Form, FormField
from bot.chat.message import Message, message_plain_text
from bot.teams.card_text import cut, escape
from bot.teams.cards import SCHEMA, VERSION

SAVE_VERB = "save"
PREVIEW_VERB = "preview"
MAX_VALUE = 2000
MAX_CHOICE_TITLE = 120
MAX_TEXT = 2000


def verb(form: Form, action: str) -> str:
    """``contest_save``, ``contest_preview``: the card's verbs, by form."""
    return f"{form.id}_{action}"


def _text(text: str, **style: Any) -> dict[str, Any]:
    """A text block showing ``text`` literally: errors echo what was typed, previews show
    names from ConnectWise, so every markdown character is escaped."""
    return {"type": "TextBlock", "text": escape(cut(text, MAX_TEXT)), "wrap": True, **style}


def _message_blocks(message: Message) -> list[dict[str, Any]]:
    """A message's words as literal text blocks, one a line."""
    return [_text(line) for line in message_plain_text(message).splitlines() if line.strip()]


def _input(field: FormField) -> dict[str, Any]:
    label = field.label + ("" if field.optional else " *")
    if field.kind == "select" and field.groups:
        choices = [
            {
                "title": cut(
                    c.text if len(field.groups) == 1 else f"{g.label} · {c.text}",
                    MAX_CHOICE_TITLE,
                ),
                "value": c.value,
            }
            for g in field.groups
            for c in g.choices
        ]
        element: dict[str, Any] = {
            "type": "Input.ChoiceSet",
            "id": field.id,
            "label": label,
            "style": "compact",
            "choices": choices,
        }
        if any(c["value"] == field.value for c in choices):
            element["value"] = field.value
        return element
    element = {"type": "Input.Text", "id": field.id, "label": label}
    if field.value:
        element["value"] = cut(field.value, MAX_VALUE)
    placeholder = "YYYY-MM-DD" if field.kind == "date" else field.placeholder
    if placeholder:
        element["placeholder"] = placeholder
    if field.kind == "long_text":
        element["isMultiline"] = True
    return element


def form_card(form: Form) -> dict[str, Any]:
    """The Adaptive Card of ``form``."""
    body: list[dict[str, Any]] = [_text(form.title, size="Large", weight="Bolder")]
    if form.intro is not None:
        body.extend(_message_blocks(form.intro))
    for field in form.fields:
        body.append(_input(field))
        if field.id in form.errors:
            body.append(_text(form.errors[field.id], color="Attention", spacing="None"))
        elif field.hint:
            body.append(_text(field.hint, isSubtle=True, size="Small", spacing="None"))
    shown = {f.id for f in form.fields}
    for field_id, message in form.errors.items():
        if field_id not in shown:
            body.append(_text(message, color="Attention"))
    if form.preview is not None:
        body.extend(_message_blocks(form.preview))
    data = {"state": form.state}
    actions: list[dict[str, Any]] = [
        {
            "type": "Action.Execute",
            "title": form.submit,
            "verb": verb(form, SAVE_VERB),
            "data": {**data, "action": verb(form, SAVE_VERB)},
            "style": "positive",
        }
    ]
    if form.preview is not None:  # a form without a preview (a new board) has no Preview
        actions.append(
            {
                "type": "Action.Execute",
                "title": "Preview",
                "verb": verb(form, PREVIEW_VERB),
                "data": {**data, "action": verb(form, PREVIEW_VERB)},
            }
        )
    body.append({"type": "ActionSet", "actions": actions})
    return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}


CARD_DATA = frozenset({"state", "action", "value", "block"})
"""What a form card's buttons carry besides the inputs."""


def card_values(data: dict[str, Any]) -> dict[str, str]:
    """The submitted inputs of a form card, by field id (Teams merges them into the action's
    data)."""
    return {str(k): "" if v is None else str(v) for k, v in data.items() if k not in CARD_DATA}
