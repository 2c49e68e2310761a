"""ConnectWise's service surveys as ratings (docs/metrics.md, "Customer satisfaction").

Shapes, as ConnectWise's models describe them (the ``ServiceSurvey``,
``ServiceSurveyQuestion``/``ServiceSurveyQuestionOption`` models of the 2019–2025 API, as
the pywise and Spinen client libraries publish them; results as the issue's captured
fields): a survey has questions of type ``Selection`` (options with ``points``) or
``OpenEnded``, each with an ``includeFlag`` (counted in the survey's total); a result has
``ticketId``, ``totalPoints``, ``results[{questionId, answer}]``, ``contact``,
``emailAddress``, ``footerResponse`` and ``_info``.

A result becomes a rating by its share of the survey's maximum (``metrics.ratings``); the
comment is the open-ended answers, then the footer response. A result that cannot be read
(no ticket, no score, no time, a survey without scored questions) is skipped with the
reason, never raised: the rest of the page is stored.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from metrics.ratings import (
    Rating,
    RatingSource,
    SurveyQuestion,
    respondent_key,
    survey_rating,
)
from metrics.records import member_key
from psa.connectwise.conditions import all_of, equals
from psa.connectwise.conditions import updated_after as updated_after_condition
from psa.connectwise.mapping import parse_timestamp
from psa.connectwise.transport import Requester
from psa.port import RatingPage, SkippedTicket

MAX_COMMENT_CHARS = 4000
"""A comment is kept up to this length: enough for any honest answer, bounded for chat."""


@dataclass(frozen=True, slots=True)
class SurveyForm:
    """What reading a survey's results needs: its scored questions and its open ones."""

    survey_id: int
    questions: tuple[SurveyQuestion, ...]
    open_ended: frozenset[int]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _points(option: Any) -> float | None:
    if not isinstance(option, Mapping) or option.get("includeFlag") is False:
        return None
    points = option.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float):
        return None
    return float(points) if math.isfinite(points) else None


def map_questions(survey_id: int, raw_questions: Sequence[Any]) -> SurveyForm:
    """A survey's form: selection questions with their options' points, counted unless
    ``includeFlag`` is false, and the ids of its open-ended questions."""
    questions: list[SurveyQuestion] = []
    open_ended: set[int] = set()
    for raw in raw_questions:
        if not isinstance(raw, Mapping) or (question_id := _int(raw.get("id"))) is None:
            continue
        kind = str(raw.get("type") or "")
        if kind.casefold() == "openended":
            open_ended.add(question_id)
            continue
        options = _list(raw.get("options"))
        points = tuple(p for p in map(_points, options) if p is not None)
        counted = kind.casefold() == "selection" and raw.get("includeFlag") is not False
        questions.append(SurveyQuestion(question_id, counted, points))
    return SurveyForm(survey_id, tuple(questions), frozenset(open_ended))


def _comment(raw: Mapping[str, Any], form: SurveyForm) -> str | None:
    parts: list[str] = []
    for answer in _list(raw.get("results")):
        if isinstance(answer, Mapping) and _int(answer.get("questionId")) in form.open_ended:
            text = answer.get("answer")
            if isinstance(text, str) and text.strip():
                parts.append(text.strip())
    footer = raw.get("footerResponse")
    if isinstance(footer, str) and footer.strip():
        parts.append(footer.strip())
    if not parts:
        return None
    return "\n".join(parts).replace("\x00", "")[:MAX_COMMENT_CHARS]


class UnreadableResult(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _rated_at(raw: Mapping[str, Any]) -> datetime:
    info = _mapping(raw.get("_info"))
    for key in ("lastUpdated", "dateEntered"):
        value = info.get(key)
        if value is None:
            continue
        try:
            moment = parse_timestamp(value)
        except ValueError as exc:
            raise UnreadableResult(f"_info.{key}", str(exc)) from None
        return moment
    raise UnreadableResult("_info.lastUpdated", "the result has no time")


def map_result(
    raw: Mapping[str, Any], form: SurveyForm, *, positive_at: float, negative_at: float
) -> Rating:
    """One survey result as a rating; ``UnreadableResult`` naming the field otherwise."""
    ticket_id = _int(raw.get("ticketId"))
    if ticket_id is None or ticket_id <= 0:
        raise UnreadableResult("ticketId", "not a ticket id")
    total = raw.get("totalPoints")
    if isinstance(total, bool) or not isinstance(total, int | float):
        raise UnreadableResult("totalPoints", f"not a number: {total!r:.40}")
    try:
        value = survey_rating(
            float(total), form.questions, positive_at=positive_at, negative_at=negative_at
        )
    except ValueError as exc:
        raise UnreadableResult("totalPoints", str(exc)) from None
    contact = _mapping(raw.get("contact"))
    email = raw.get("emailAddress") if isinstance(raw.get("emailAddress"), str) else None
    result_id = _int(raw.get("id"))
    respondent = respondent_key(email=email, contact_id=_int(contact.get("id")))
    if respondent is None:  # nobody named: the result is its own respondent
        respondent = f"result:{form.survey_id}:{result_id}"
    return Rating(
        ticket_id=ticket_id,
        respondent=respondent,
        value=value,
        rated_at=_rated_at(raw),
        source=RatingSource.CONNECTWISE,
        comment=_comment(raw, form),
        source_ref=f"survey:{form.survey_id}:result:{result_id}",
    )


def map_results(
    raw_results: Sequence[Any], form: SurveyForm, *, positive_at: float, negative_at: float
) -> tuple[list[Rating], list[SkippedTicket], datetime | None]:
    """A page of results: the ratings, the skipped (result id, field, reason), and the
    newest change time seen (readable results only)."""
    ratings: list[Rating] = []
    skipped: list[SkippedTicket] = []
    newest: datetime | None = None
    for raw in raw_results:
        if not isinstance(raw, Mapping):
            skipped.append(SkippedTicket(None, "result", "not an object"))
            continue
        try:
            rating = map_result(raw, form, positive_at=positive_at, negative_at=negative_at)
        except UnreadableResult as exc:
            skipped.append(SkippedTicket(raw.get("id"), exc.field, exc.reason))
            continue
        ratings.append(rating)
        if newest is None or rating.rated_at > newest:
            newest = rating.rated_at
    return ratings, skipped, newest


def worker_keys(raw_entries: Sequence[Any]) -> list[str]:
    """The members (``member_key`` form) of a ticket's time entries, each once."""
    keys: set[str] = set()
    for raw in raw_entries:
        member = raw.get("member") if isinstance(raw, Mapping) else None
        identifier = member.get("identifier") if isinstance(member, Mapping) else None
        key = member_key(identifier) if isinstance(identifier, str) else None
        if key is not None:
            keys.add(key)
    return sorted(keys)


def read_rating_pages(
    requester: Requester,
    *,
    updated_after: datetime | None,
    positive_at: float,
    negative_at: float,
) -> Iterator[RatingPage]:
    """Every survey's results changed after ``updated_after``, a page at a time: the
    surveys (``/service/surveys``), each one's questions, then its results in id order."""
    for surveys in requester.iter_pages("/service/surveys", {"orderBy": "id asc"}):
        for survey in surveys:
            survey_id = _int(survey.get("id")) if isinstance(survey, Mapping) else None
            if survey_id is None:
                continue
            base = f"/service/surveys/{survey_id}"
            raw_questions = [
                q for page in requester.iter_pages(f"{base}/questions", {}) for q in page
            ]
            form = map_questions(survey_id, raw_questions)
            params = {"orderBy": "id asc"}
            if updated_after is not None:
                params["conditions"] = updated_after_condition(updated_after)
            for raw_page in requester.iter_pages(f"{base}/results", params):
                ratings, skipped, newest = map_results(
                    raw_page, form, positive_at=positive_at, negative_at=negative_at
                )
                yield RatingPage(ratings=ratings, skipped=skipped, newest_update=newest)


def read_ticket_workers(requester: Requester, ticket_id: int) -> list[str]:
    """The members with a time entry on the ticket."""
    conditions = all_of(equals("chargeToType", "ServiceTicket"), equals("chargeToId", ticket_id))
    params = {"conditions": conditions or "", "fields": "id,member"}
    entries = [e for page in requester.iter_pages("/time/entries", params) for e in page]
    return worker_keys(entries)
