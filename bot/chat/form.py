"""A chat-neutral form: what Slack draws as a modal and Teams as an Adaptive Card with inputs
(README "Running a contest"). Core builds it (fields, values, errors, a preview); each
adapter renders it and reads the submitted values back by field id.

Every value travels as text ("" for empty), so validation lives in one place (core) and an
error is always attached to the field it is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.chat.message import Message

FieldKind = Literal["text", "long_text", "select", "date", "channel"]


@dataclass(frozen=True, slots=True)
class Choice:
    text: str
    value: str


@dataclass(frozen=True, slots=True)
class ChoiceGroup:
    label: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class FormField:
    id: str
    label: str
    kind: FieldKind = "text"
    value: str = ""
    hint: str | None = None
    placeholder: str | None = None
    optional: bool = False
    groups: tuple[ChoiceGroup, ...] = ()  # a select's choices, grouped
    refreshes: bool = False  # a change refreshes the preview (Slack: dispatch_action)


@dataclass(frozen=True, slots=True)
class Form:
    id: str  # "contest", "score": what a submission is for
    title: str  # short (Slack: 24 characters)
    submit: str
    fields: tuple[FormField, ...]
    state: str = ""  # opaque to adapters: handed back with the submission
    errors: Mapping[str, str] = field(default_factory=dict)  # field id → message
    intro: Message | None = None  # above the fields (a refusal, a conflict)
    preview: Message | None = None  # below the fields
