"""The score editor (README "Running a contest"): a score's name and up to ``ROWS`` weighted
metrics (negative weights allowed), validated by ``bot.config``'s rules and previewed as
this month's standings on the score, like the contest form.

A score is a program item of its own (``storage.program``, kind "score"); contests rank on
it by name, so renaming a score that a contest uses is refused beside the name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bot.chat.form import Form, FormField
from bot.chat.formatting import score_formula
from bot.chat.message import Message
from bot.config import DeskboardConfig
from bot.core.contest_form import FormState, problem_preview, standings_preview
from bot.core.metric_choices import metric_groups
from metrics.contests import Contest, ContestKind
from metrics.windows import Period
from storage import program as store
from storage.db import session_scope

FORM_ID = "score"
ROWS = 6
NAME_MAX = 80


def values_of(body: Mapping[str, Any]) -> dict[str, str]:
    values = {"name": str(body.get("name") or "")}
    for i, (key, weight) in enumerate(list((body.get("weights") or {}).items())[:ROWS], 1):
        values[f"metric_{i}"] = str(key)
        values[f"weight_{i}"] = format(float(weight), "g")
    return values


def body_of(values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The score the form's values make, and the values not even of the right form."""
    errors: dict[str, str] = {}
    name = " ".join(str(values.get("name") or "").split())
    if len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters ({len(name)} now)."
    weights: dict[str, float] = {}
    for i in range(1, ROWS + 1):
        metric = str(values.get(f"metric_{i}") or "").strip()
        text = str(values.get(f"weight_{i}") or "").strip().replace("−", "-")
        if not metric and not text:
            continue
        if not metric:
            errors[f"metric_{i}"] = "Pick the metric this weight is for."
            continue
        if not text:
            errors[f"weight_{i}"] = "Give a weight (negative counts against)."
            continue
        try:
            weight = float(text)
        except ValueError:
            errors[f"weight_{i}"] = f"“{text[:40]}” is not a number."
            continue
        if metric in weights:
            errors[f"metric_{i}"] = "This metric is weighted above already."
            continue
        weights[metric] = weight
    if not weights and not errors:
        errors["metric_1"] = "A score needs at least one weighted metric."
    return {"name": name, "weights": weights}, errors


_SCORE_KEY = re.compile(r"scores\[(\d+)\](?:\.(\w+))?(?:\.(.+))?")


def check_score(
    config: DeskboardConfig, body: Mapping[str, Any], *, replacing: str | None
) -> tuple[DeskboardConfig | None, dict[str, str]]:
    """The configuration with ``body`` in place of the score ``replacing`` (or added), and
    the problems by form field (a contest that would lose its score: beside the name)."""
    doc = config.program_doc()
    scores = list(doc.get("scores", []))
    index = next((i for i, s in enumerate(scores) if s["name"] == replacing), None)
    if index is None:
        index = len(scores)
        scores.append(dict(body))
    else:
        scores[index] = dict(body)
    doc["scores"] = scores
    if replacing is not None and replacing != body.get("name"):
        users = [c["name"] for c in doc.get("contests", []) if c.get("metric") == replacing]
        if users:
            return None, {"name": f"Contests rank on “{replacing}”: {', '.join(users)[:200]}."}
    candidate, problems = config.program_problems(doc)
    rows = list(dict(body.get("weights") or {}))
    errors: dict[str, str] = {}
    for key, reason in problems:
        reason = reason.removeprefix("Value error, ")
        match = _SCORE_KEY.fullmatch(key)
        if key == "scores" and "unique" in reason:
            errors.setdefault("name", "Another score has this name.")
        elif match and int(match.group(1)) == index and match.group(2) == "weights":
            metric = match.group(3) or ""
            row = rows.index(metric) + 1 if metric in rows else 1
            errors.setdefault(f"metric_{row}", reason[:300])
        elif match and int(match.group(1)) == index:
            errors.setdefault(match.group(2) or "name", reason[:300])
        else:
            errors.setdefault("name", f"The program would not be valid: {key}: {reason}")
    return (candidate if not errors else None), errors


def score_form(
    config: DeskboardConfig,
    *,
    values: Mapping[str, str],
    state: FormState,
    errors: Mapping[str, str] | None = None,
    preview: Message | None = None,
    intro: Message | None = None,
) -> Form:
    groups = tuple(g for g in metric_groups(config) if g.label != "Scores")
    fields = [FormField("name", "Name", value=values.get("name", ""), placeholder="Service Star")]
    for i in range(1, ROWS + 1):
        fields.append(
            FormField(
                f"metric_{i}",
                f"Metric {i}",
                kind="select",
                value=values.get(f"metric_{i}", ""),
                groups=groups,
                optional=i > 1,
                refreshes=True,
            )
        )
        fields.append(
            FormField(
                f"weight_{i}",
                f"Weight {i}",
                value=values.get(f"weight_{i}", ""),
                optional=i > 1,
                placeholder="2, or -3 to count against",
                hint="Points per unit of the metric; negative weights count against"
                if i == 1
                else None,
                refreshes=True,
            )
        )
    return Form(
        id=FORM_ID,
        title="New score" if state.mode == "new" else "Edit score",
        submit="Save",
        fields=tuple(fields),
        state=state.dump(),
        errors=dict(errors or {}),
        intro=intro,
        preview=preview,
    )


def new_score_form(config: DeskboardConfig) -> Form:
    values = {"metric_1": "resolved", "weight_1": "1"}
    return score_form(config, values=values, state=FormState("new"))


def existing_score_form(engine: Engine, config: DeskboardConfig, *, name: str) -> Form | None:
    with session_scope(engine) as session:
        item = store.get_item(session, kind="score", name=name)
    if item is None:
        return None
    state = FormState("edit", name, item.revision)
    return score_form(config, values=values_of(item.body), state=state)


def score_preview(
    engine: Engine,
    config: DeskboardConfig,
    *,
    values: Mapping[str, str],
    state: FormState,
    platform: str,
    now: datetime,
) -> tuple[Message, dict[str, str]]:
    """This month's standings on the score as the form has it."""
    body, errors = body_of(values)
    candidate, problems = (None, {}) if errors else check_score(config, body, replacing=state.name)
    errors = {**problems, **errors}
    if candidate is None:
        return problem_preview(errors), errors
    score = next(s for s in candidate.score_list() if s.name == body["name"])
    contest = Contest(name=score.name, target=score, kind=ContestKind.PLACES, period=Period.MONTHLY)
    rules = f"{score.name} = {score_formula(score)}"
    return standings_preview(
        engine, candidate, contest, rules=rules, platform=platform, now=now
    ), {}


def score_form_with_preview(
    engine: Engine,
    config: DeskboardConfig,
    *,
    values: Mapping[str, str],
    state: FormState,
    platform: str,
    now: datetime,
    show_errors: bool = False,
) -> Form:
    shown, errors = score_preview(
        engine, config, values=values, state=state, platform=platform, now=now
    )
    return score_form(
        config,
        values=values,
        state=state,
        preview=shown,
        errors=errors if show_errors else None,
    )


__all__ = [
    "FORM_ID",
    "ROWS",
    "body_of",
    "check_score",
    "existing_score_form",
    "new_score_form",
    "score_form",
    "score_form_with_preview",
    "values_of",
]
