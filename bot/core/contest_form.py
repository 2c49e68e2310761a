"""The contest form (README "Running a contest"): its fields, the values of a stored
contest, the contest the submitted values make, the checks (``bot.config``'s rules, each
problem beside its field) and the live preview of today's standings under those settings.
One form for every platform: Slack draws it as a modal, Teams as an Adaptive Card."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine

from bot.chat.form import Choice, ChoiceGroup, Form, FormField
from bot.chat.formatting import format_measure, rule_text
from bot.chat.message import Message
from bot.chat.views.common import person_for
from bot.chat.views.program import contest_preview_message
from bot.config import DeskboardConfig
from bot.config_schedule import EXAMPLES, post_words
from bot.core.metric_choices import definition, metric_groups
from bot.core.people import people_directory
from bot.core.reports import standings_for_window
from metrics.contests import Contest
from metrics.windows import Window
from storage import program as store
from storage.db import session_scope

FORM_ID = "contest"
NAME_MAX = 80
FIXED = "fixed"
ANY_CATEGORY = "all"
KINDS = (
    ("places", "Places (top N win)"),
    ("winner_takes_all", "Winner takes all"),
    ("one_goal", "One goal (everyone who reaches it)"),
    ("multi_goal", "Goal tiers"),
)
PERIODS = (
    ("daily", "Daily"),
    ("weekly", "Weekly"),
    ("monthly", "Monthly"),
    ("quarterly", "Quarterly"),
    ("yearly", "Yearly"),
    (FIXED, "Fixed dates"),
)
CHANNEL_FIELD = {"slack": "channel", "teams": "teams_channel"}


@dataclass(frozen=True, slots=True)
class FormState:
    """What a form carries between opening and saving (Slack: private_metadata)."""

    mode: Literal["new", "edit"]
    name: str | None = None  # the contest edited, as it was named when the form opened
    revision: int | None = None

    def dump(self) -> str:
        return json.dumps({"mode": self.mode, "name": self.name, "revision": self.revision})

    @classmethod
    def load(cls, text: str) -> FormState:
        try:
            data = json.loads(text or "{}")
            mode = data.get("mode")
            revision = data.get("revision")
            name = data.get("name")
        except (ValueError, AttributeError):
            return cls("new")
        if mode != "edit" or not isinstance(name, str) or not isinstance(revision, int):
            return cls("new")
        return cls("edit", name, revision)


# ---- values ↔ a contest as the file writes it -------------------------------------------------


def _number(text: str) -> str:
    return format(float(text), "g") if text else ""


def values_of(body: Mapping[str, Any]) -> dict[str, str]:
    """A stored contest (its settings as the file writes them) as form values."""
    metric, _, category = str(body.get("metric", "")).partition("@")

    def text(key: str) -> str:
        value = body.get(key)
        return "" if value is None else str(value)

    return {
        "name": text("name"),
        "metric": metric,
        "category": category or ANY_CATEGORY,
        "period": text("period") or (FIXED if body.get("start") else "monthly"),
        "start": text("start"),
        "end": text("end"),
        "kind": text("kind") or "places",
        "places": text("places") or "3",
        "goal": "" if body.get("goal") is None else _number(str(body["goal"])),
        "goals": ", ".join(_number(str(g)) for g in body.get("goals") or []),
        "min_resolved": text("min_resolved"),
        "prize": text("prize"),
        "channel": text("channel"),
        "teams_channel": text("teams_channel"),
        "post": post_words(body.get("post")) if body.get("post") else "off",
    }


def body_of(
    values: Mapping[str, str], *, base: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Form values as a contest's settings (keeping what the form does not show from
    ``base``), and the values that are not even of the right form (a number, a date)."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        k: v for k, v in (base or {}).items() if k in ("ended", "channel", "teams_channel")
    }

    def get(key: str) -> str:
        return " ".join(str(values.get(key) or "").split())

    name = get("name")
    if len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters ({len(name)} now)."
    body["name"] = name
    metric, category = get("metric"), get("category")
    category = "" if category == ANY_CATEGORY else category
    body["metric"] = f"{metric}@{category}" if metric and category else metric
    period = get("period") or "monthly"
    if period == FIXED:
        for key in ("start", "end"):
            if get(key):
                body[key] = get(key)
            else:
                errors[key] = "a fixed contest needs start and end dates"
    else:
        body["period"] = period
    body["kind"] = get("kind") or "places"
    for key, kind in (("places", int), ("min_resolved", int), ("goal", float)):
        text = get(key)
        if not text:
            continue
        try:
            body[key] = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            errors[key] = f"“{text[:40]}” is not {what}."
    goals = [g for g in re.split(r"[,;\s]+", get("goals")) if g]
    if goals:
        try:
            body["goals"] = [float(g.rstrip("%")) for g in goals]
        except ValueError:
            errors["goals"] = "Goal tiers are numbers separated by commas: 80, 90, 95."
    if "goal" in body and body["kind"] == "multi_goal":
        del body["goal"]
    if body["kind"] not in ("places", "winner_takes_all", "one_goal") and "goal" in body:
        del body["goal"]
    if body["kind"] != "multi_goal":
        body.pop("goals", None)
    if body["kind"] != "places":
        body.pop("places", None)
    if get("prize"):
        body["prize"] = str(values.get("prize") or "").strip()
    for key in ("channel", "teams_channel"):
        if key in values:
            body.pop(key, None)
            if get(key):
                body[key] = get(key)
    schedule = get("post")
    if schedule and schedule.casefold() != "off":
        body["post"] = schedule
    return body, errors


_CONTEST_KEY = re.compile(r"contests\[(\d+)\](?:\.(\w+))?")


def _field_of(key: str, reason: str, *, index: int) -> str | None:
    """The form field a configuration problem is about, or None when it is elsewhere."""
    if key == "contests" and "unique" in reason:
        return "name"
    match = _CONTEST_KEY.match(key)
    if match is None or int(match.group(1)) != index:
        return None
    field = match.group(2) or "period"
    if field == "metric" and "category" in reason:
        return "category"
    return field


def check_contest(
    config: DeskboardConfig, body: Mapping[str, Any], *, replacing: str | None
) -> tuple[DeskboardConfig | None, dict[str, str]]:
    """The configuration with ``body`` in place of the contest ``replacing`` (or added), and
    the problems by form field."""
    doc = config.program_doc()
    contests = list(doc.get("contests", []))
    index = next((i for i, c in enumerate(contests) if c["name"] == replacing), None)
    if index is None:
        index = len(contests)
        contests.append(dict(body))
    else:
        contests[index] = dict(body)
    doc["contests"] = contests
    candidate, problems = config.program_problems(doc)
    errors: dict[str, str] = {}
    for key, reason in problems:
        field = _field_of(key, reason, index=index)
        if field == "post":
            reason = f"{reason.removeprefix('Value error, ')}"
        reason = reason.removeprefix("Value error, ")
        if key == "contests" and "unique" in reason:
            reason = "Another contest has this name."
        if field is None:
            errors.setdefault("name", f"The program would not be valid: {key}: {reason}")
        else:
            errors.setdefault(field, reason[:300])
    if any(
        c["name"].casefold() == str(body.get("name", "")).casefold()
        for c in others(contests, index)
    ):
        errors.setdefault("name", "Another contest has this name.")
    return (candidate if not errors else None), errors


def others(contests: Sequence[Mapping[str, Any]], index: int) -> list[Mapping[str, Any]]:
    return [c for i, c in enumerate(contests) if i != index]


# ---- the form -----------------------------------------------------------------------------------


def contest_form(
    config: DeskboardConfig,
    *,
    platform: str,
    values: Mapping[str, str],
    state: FormState,
    errors: Mapping[str, str] | None = None,
    preview: Message | None = None,
    intro: Message | None = None,
) -> Form:
    categories = tuple(Choice(name[:70], name) for name in list(config.categories)[:99])
    if categories:
        categories = (Choice("All tickets", ANY_CATEGORY), *categories)
    metric_hint = definition(values.get("metric", "")) or "A metric, or a score (a weighted sum)"
    channel_field = CHANNEL_FIELD.get(platform, "channel")
    fields = [
        FormField("name", "Name", value=values.get("name", ""), placeholder="Clean tickets"),
        FormField(
            "metric",
            "Ranks on",
            kind="select",
            value=values.get("metric", ""),
            groups=metric_groups(config),
            hint=metric_hint,
            refreshes=True,
        ),
        FormField(
            "category",
            "Only tickets of category",
            kind="select",
            value=values.get("category", ""),
            groups=(ChoiceGroup("Categories", categories),) if categories else (),
            hint="Count only tickets of this category (not for scores)",
            refreshes=True,
        )
        if categories
        else None,
        FormField(
            "period",
            "Period",
            kind="select",
            value=values.get("period", "monthly"),
            groups=(ChoiceGroup("Period", tuple(Choice(t, v) for v, t in PERIODS)),),
            hint=f"Windows in {config.timezone}; fixed dates use start and end",
            refreshes=True,
        ),
        FormField("start", "Start date", kind="date", value=values.get("start", ""), optional=True),
        FormField(
            "end",
            "End date",
            kind="date",
            value=values.get("end", ""),
            optional=True,
            hint="The contest's last day is the day before (end is exclusive)",
        ),
        FormField(
            "kind",
            "Who wins",
            kind="select",
            value=values.get("kind", "places"),
            groups=(ChoiceGroup("Kind", tuple(Choice(t, v) for v, t in KINDS)),),
            refreshes=True,
        ),
        FormField(
            "places",
            "Places",
            value=values.get("places", "3"),
            optional=True,
            hint="Places: how many win",
        ),
        FormField(
            "goal",
            "Goal",
            value=values.get("goal", ""),
            optional=True,
            hint="One goal: the value to reach; places and winner takes all: optional bar",
            refreshes=True,
        ),
        FormField(
            "goals",
            "Goal tiers",
            value=values.get("goals", ""),
            optional=True,
            placeholder="80, 90, 95",
            hint="Goal tiers only",
        ),
        FormField(
            "min_resolved",
            "Minimum resolved tickets",
            value=values.get("min_resolved", ""),
            optional=True,
            hint="To qualify (default: 5 for rates and averages, 1 for counts)",
            refreshes=True,
        ),
        FormField(
            "prize",
            "Prize",
            kind="long_text",
            value=values.get("prize", ""),
            optional=True,
            placeholder="Lunch on the company",
        ),
        FormField(
            channel_field,
            "Channel",
            kind="channel" if platform == "slack" else "text",
            value=values.get(channel_field, ""),
            optional=True,
            placeholder="Service Desk/General" if platform == "teams" else None,
            hint="Where standings, winners and the announcement are posted"
            + (' ("Team/Channel")' if platform == "teams" else ""),
        ),
        FormField(
            "post",
            "Post standings",
            value=values.get("post", "off"),
            optional=True,
            hint=f"In words: {EXAMPLES}",
        ),
    ]
    title = "New contest" if state.mode == "new" else "Edit contest"
    return Form(
        id=FORM_ID,
        title=title,
        submit="Save",
        fields=tuple(f for f in fields if f is not None),
        state=state.dump(),
        errors=dict(errors or {}),
        intro=intro,
        preview=preview,
    )


def _blank() -> dict[str, str]:
    return values_of({"period": "monthly", "kind": "places", "metric": "categorized_pct"})


def new_contest_form(config: DeskboardConfig, *, platform: str) -> Form:
    values = _blank()
    return contest_form(config, platform=platform, values=values, state=FormState("new"))


def existing_form(
    engine: Engine, config: DeskboardConfig, *, name: str, platform: str, duplicate: bool = False
) -> Form | None:
    """The form of the stored contest ``name`` (Edit), or a copy of it (Duplicate)."""
    with session_scope(engine) as session:
        item = store.get_item(session, kind="contest", name=name)
    if item is None:
        return None
    values = values_of(item.body)
    if duplicate:
        values["name"] = f"{name} (copy)"[:NAME_MAX]
        state = FormState("new")
    else:
        state = FormState("edit", name, item.revision)
    return contest_form(config, platform=platform, values=values, state=state)


# ---- preview ------------------------------------------------------------------------------------


def problem_preview(errors: Mapping[str, str]) -> Message:
    """The preview while the form has a problem: which field to fix first."""
    first = next(iter(errors.items()), ("name", "incomplete"))
    return contest_preview_message(
        lines=[],
        qualified=0,
        rules="",
        window="not yet",
        problem=f"Fix “{first[0]}” to see the standings: {first[1]}",
    )


def standings_preview(
    engine: Engine,
    config: DeskboardConfig,
    contest: Contest,
    *,
    rules: str,
    platform: str,
    now: datetime,
) -> Message:
    """``contest``'s standings in its current window up to now, under ``config``."""
    window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day)
    shown = _clipped(window, now)
    standings = standings_for_window(engine, config=config, contest=contest, window=shown)
    people = people_directory(engine, platform=platform).people(
        {s.member for s in standings.ranked}
    )
    lines = [
        f"{s.rank}. {person_for(people, s.member).display} — "
        f"{format_measure(s.value, contest.unit)}"
        for s in standings.ranked
    ]
    return contest_preview_message(
        lines=lines,
        qualified=len(standings.ranked),
        rules=rules,
        window=f"{window.label()}, as of now" if shown is not window else window.label(),
    )


def preview(
    engine: Engine,
    config: DeskboardConfig,
    *,
    values: Mapping[str, str],
    state: FormState,
    platform: str,
    now: datetime,
) -> tuple[Message, dict[str, str]]:
    """Today's standings under the form's settings, and the problems found on the way."""
    body, errors = body_of(values)
    candidate, problems = (
        (None, {}) if errors else check_contest(config, body, replacing=state.name)
    )
    errors = {**problems, **errors}
    if candidate is None:
        return problem_preview(errors), errors
    contest = next(c for c in candidate.all_contests() if c.name == body["name"])
    shown = standings_preview(
        engine, candidate, contest, rules=rule_text(contest), platform=platform, now=now
    )
    return shown, {}


def _clipped(window: Window, now: datetime) -> Window:
    """A window that has not ended yet, up to now (an upcoming one as it is)."""
    if window.start <= now < window.end:
        return Window(window.start, now) if now > window.start else window
    return window


def form_with_preview(
    engine: Engine,
    config: DeskboardConfig,
    *,
    values: Mapping[str, str],
    state: FormState,
    platform: str,
    now: datetime,
    show_errors: bool = False,
) -> Form:
    shown, errors = preview(engine, config, values=values, state=state, platform=platform, now=now)
    return contest_form(
        config,
        platform=platform,
        values=values,
        state=state,
        preview=shown,
        errors=errors if show_errors else None,
    )


def previewed(
    engine: Engine, config: DeskboardConfig, form: Form, *, platform: str, now: datetime
) -> Form:
    """``form`` as it opens: its values, with today's preview under them."""
    return form_with_preview(
        engine,
        config,
        values={f.id: f.value for f in form.fields},
        state=FormState.load(form.state),
        platform=platform,
        now=now,
    )
