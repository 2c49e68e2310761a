"""A chat-neutral ``Form`` as a Slack modal, and a submitted modal's values back by field id
(README "Running a contest"). Every field is an input block whose block id and action id are
the field's id, so ``response_action: errors`` puts each message beside its field."""

from __future__ import annotations

import re
from typing import Any

from bot.chat.form import Choice, Form, FormField
from bot.slack.block_limits import MAX_OPTION_TEXT, MAX_OPTION_VALUE, MAX_OPTIONS, MAX_PLACEHOLDER
from bot.slack.blocks import to_slack

MAX_TITLE = 24
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_INITIAL = 3000
MAX_METADATA = 3000
MAX_ERROR = 300
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")


def _plain(text: str, limit: int) -> dict[str, Any]:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text or " "}


def _option(choice: Choice) -> dict[str, Any]:
    return {"text": _plain(choice.text, MAX_OPTION_TEXT), "value": choice.value}


def _select(field: FormField, action: str) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": action}
    groups = [
        (g.label, [c for c in g.choices if 0 < len(c.value) <= MAX_OPTION_VALUE][:MAX_OPTIONS])
        for g in field.groups
    ]
    groups = [(label, choices) for label, choices in groups if choices]
    if len(groups) > 1:
        element["option_groups"] = [
            {"label": _plain(label, MAX_OPTION_TEXT), "options": [_option(c) for c in choices]}
            for label, choices in groups
        ]
    else:
        element["options"] = [_option(c) for c in (groups[0][1] if groups else [])]
    chosen = next((c for _, cs in groups for c in cs if c.value == field.value), None)
    if chosen is not None:
        element["initial_option"] = _option(chosen)
    return element


def action_id(form: Form, field: FormField) -> str:
    """A field's action id: the form's id and the field's (``contest.metric``), so that the
    listeners of a form's fields are told apart from every other action."""
    return f"{form.id}.{field.id}"


def _element(field: FormField, action: str) -> dict[str, Any]:
    if field.kind == "select" and field.groups:
        element = _select(field, action)
    elif field.kind == "date":
        element = {"type": "datepicker", "action_id": action}
        if _DATE.fullmatch(field.value):
            element["initial_date"] = field.value
    elif field.kind == "channel" and (not field.value or _CHANNEL_ID.fullmatch(field.value)):
        element = {
            "type": "conversations_select",
            "action_id": action,
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        if field.value:
            element["initial_conversation"] = field.value
    else:
        element = {"type": "plain_text_input", "action_id": action}
        if field.kind == "long_text":
            element["multiline"] = True
        if field.value:
            element["initial_value"] = field.value[:MAX_INITIAL]
    if field.placeholder and element["type"] in ("plain_text_input", "static_select", "datepicker"):
        element["placeholder"] = _plain(field.placeholder, MAX_PLACEHOLDER)
    return element


def form_view(form: Form, *, callback_id: str | None = None) -> dict[str, Any]:
    """The modal of ``form`` (``views.open`` / ``views.update``)."""
    blocks: list[dict[str, Any]] = []
    if form.intro is not None:
        blocks.extend(to_slack(form.intro)[1])
    for field in form.fields:
        block: dict[str, Any] = {
            "type": "input",
            "block_id": field.id,
            "label": _plain(field.label, MAX_LABEL),
            "element": _element(field, action_id(form, field)),
            "optional": field.optional,
        }
        if field.hint:
            block["hint"] = _plain(field.hint, MAX_HINT)
        if field.refreshes:
            block["dispatch_action"] = True
            if block["element"]["type"] == "plain_text_input":
                block["element"]["dispatch_action_config"] = {
                    "trigger_actions_on": ["on_enter_pressed"]
                }
        blocks.append(block)
    if form.preview is not None:
        blocks.append({"type": "divider", "block_id": "preview_divider"})
        blocks.extend(to_slack(form.preview)[1])
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id or f"{form.id}_form",
        "title": _plain(form.title, MAX_TITLE),
        "submit": _plain(form.submit, MAX_TITLE),
        "close": _plain("Cancel", MAX_TITLE),
        "private_metadata": form.state[:MAX_METADATA],
        "blocks": blocks,
    }
    return view


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """The values of a submitted (or changed) modal, by field id, as text."""
    values: dict[str, str] = {}
    state = ((view.get("state") or {}).get("values")) or {}
    for block_id, actions in state.items():
        if not isinstance(actions, dict):
            continue
        for action in actions.values():
            if not isinstance(action, dict):
                continue
            kind = action.get("type")
            if kind == "static_select":
                value = (action.get("selected_option") or {}).get("value")
            elif kind == "datepicker":
                value = action.get("selected_date")
            elif kind == "conversations_select":
                value = action.get("selected_conversation")
            else:
                value = action.get("value")
            values[str(block_id)] = "" if value is None else str(value)
    return values


def form_errors(form: Form) -> dict[str, str]:
    """``response_action: errors`` of a refused form: messages by the fields' block ids (a
    message about a field the modal does not show goes on its first field)."""
    shown = {f.id for f in form.fields}
    first = form.fields[0].id if form.fields else "name"
    errors: dict[str, str] = {}
    for field_id, message in form.errors.items():
        key = field_id if field_id in shown else first
        text = message if len(message) <= MAX_ERROR else message[: MAX_ERROR - 1] + "…"
        errors[key] = f"{errors[key]} {text}" if key in errors else text
    return errors
