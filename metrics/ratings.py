"""Customer ratings and how each source's answer becomes one (docs/metrics.md, "Customer
satisfaction").

A rating is positive, neutral or negative. Per ticket and respondent only the latest one
counts (``latest_ratings``); a changed mind replaces the earlier answer, it does not add one.

- A ConnectWise survey result: the share of the survey's maximum points
  (``survey_max_points``) against ``positive_at`` / ``negative_at`` (``rating_from_share``).
- Deskboard's own links: the face clicked.
- An import: words or a 1–5 / 0–10 number (``rating_from_text``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RatingValue(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class RatingSource(StrEnum):
    CONNECTWISE = "connectwise"  # a ConnectWise survey result
    LINK = "link"  # one of Deskboard's own rating links
    IMPORT = "import"  # a CSV export of another survey tool


class Credit(StrEnum):
    """Whom a rating is credited to (``[csat] credit``)."""

    RESOLVER = "resolver"
    OWNER = "owner"
    WORKED = "worked"  # every member with a time entry on the ticket


class RatingScale(StrEnum):
    """How an import's numbers read: ``words`` accepts no numbers."""

    WORDS = "words"
    FIVE = "1-5"
    TEN = "0-10"


DEFAULT_POSITIVE_AT = 0.8
DEFAULT_NEGATIVE_AT = 0.4

LINK_RESPONDENT = "link"
"""The respondent of a rating given through a ticket's links: the links are per ticket, not
per person, so the latest click on any of them is the ticket's link rating."""


@dataclass(frozen=True, slots=True)
class Rating:
    """One customer's answer about one ticket.

    ``respondent`` identifies who answered, in comparison form: an e-mail in lower case,
    ``contact:ID`` for a PSA contact without one, or ``LINK_RESPONDENT``. ``source_ref`` is
    the source's own id for the answer (a survey result id, an import's row), for tracing.
    """

    ticket_id: int
    respondent: str
    value: RatingValue
    rated_at: datetime
    source: RatingSource
    comment: str | None = None
    source_ref: str | None = None


def respondent_key(*, email: str | None, contact_id: int | None) -> str | None:
    """The respondent's comparison form: the e-mail (lower case), else ``contact:ID``."""
    if email is not None and email.strip():
        return email.strip().lower()
    if contact_id is not None:
        return f"contact:{contact_id}"
    return None


def rating_from_share(
    share: float,
    *,
    positive_at: float = DEFAULT_POSITIVE_AT,
    negative_at: float = DEFAULT_NEGATIVE_AT,
) -> RatingValue:
    """Positive when ``share`` ≥ ``positive_at``, negative when ≤ ``negative_at``, neutral
    between. ``share`` is points scored / the survey's maximum, 0..1."""
    if math.isnan(share):
        raise ValueError("a share of points must be a number")
    if share >= positive_at:
        return RatingValue.POSITIVE
    if share <= negative_at:
        return RatingValue.NEGATIVE
    return RatingValue.NEUTRAL


@dataclass(frozen=True, slots=True)
class SurveyQuestion:
    """A survey question as far as scoring goes: its id, whether it is a selection question
    counted in the total, and the points of each of its options."""

    question_id: int
    counted: bool
    option_points: tuple[float, ...]


def survey_max_points(questions: Iterable[SurveyQuestion]) -> float:
    """The most points a respondent can score: over the counted selection questions, the sum
    of each one's highest option."""
    return math.fsum(max(q.option_points) for q in questions if q.counted and q.option_points)


def survey_rating(
    total_points: float,
    questions: Sequence[SurveyQuestion],
    *,
    positive_at: float = DEFAULT_POSITIVE_AT,
    negative_at: float = DEFAULT_NEGATIVE_AT,
) -> RatingValue:
    """The rating of a survey result scoring ``total_points``; ``ValueError`` when the survey
    has no points to score (no counted selection question with points)."""
    maximum = survey_max_points(questions)
    if maximum <= 0:
        raise ValueError("the survey has no scored selection question")
    if not math.isfinite(total_points) or total_points < 0:
        raise ValueError(f"totalPoints {total_points!r} is not a score")
    return rating_from_share(
        min(total_points / maximum, 1.0), positive_at=positive_at, negative_at=negative_at
    )


_WORDS: dict[str, RatingValue] = {
    "positive": RatingValue.POSITIVE,
    "neutral": RatingValue.NEUTRAL,
    "negative": RatingValue.NEGATIVE,
    # Crewhu's faces
    "love": RatingValue.POSITIVE,
    "good": RatingValue.NEUTRAL,
    "bad": RatingValue.NEGATIVE,
    # SmileBack's
    "happy": RatingValue.POSITIVE,
    "unhappy": RatingValue.NEGATIVE,
}


def rating_from_word(text: str) -> RatingValue | None:
    """The rating a word names (positive/neutral/negative, love/good/bad,
    happy/neutral/unhappy, any case), or None."""
    return _WORDS.get(text.strip().lower())


def rating_from_number(number: int, scale: RatingScale) -> RatingValue:
    """A number on a 1–5 scale (5–4 positive, 3 neutral, 2–1 negative) or a 0–10 scale
    (10–9 positive, 8–7 neutral, 6–0 negative); ``ValueError`` outside the scale."""
    if scale is RatingScale.FIVE:
        if not 1 <= number <= 5:
            raise ValueError(f"{number} is not on the 1-5 scale")
        if number >= 4:
            return RatingValue.POSITIVE
        return RatingValue.NEUTRAL if number == 3 else RatingValue.NEGATIVE
    if scale is RatingScale.TEN:
        if not 0 <= number <= 10:
            raise ValueError(f"{number} is not on the 0-10 scale")
        if number >= 9:
            return RatingValue.POSITIVE
        return RatingValue.NEUTRAL if number >= 7 else RatingValue.NEGATIVE
    raise ValueError(f"{number}: numbers need a scale (1-5 or 0-10)")


def parse_number(text: str) -> int | None:
    """The whole number ``text`` holds ("4", " 10 ", "4.0"), or None when it holds none."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value != int(value):
        return None
    return int(value)


def infer_scale(texts: Iterable[str]) -> RatingScale | None:
    """The scale a column of ratings is on when its numbers leave no doubt: ``WORDS`` when
    it holds no number, ``TEN`` when a 0 or a number above 5 appears, None when every number
    lies within 1-5 (both scales fit: the caller must say which)."""
    numbers = [n for n in (parse_number(t) for t in texts) if n is not None]
    if not numbers:
        return RatingScale.WORDS
    if any(n == 0 or n > 5 for n in numbers):
        return RatingScale.TEN
    return None


def rating_from_text(text: str, scale: RatingScale | None) -> RatingValue:
    """An import's rating cell: a word, or a number on ``scale``; ``ValueError`` naming why
    not."""
    word = rating_from_word(text)
    if word is not None:
        return word
    number = parse_number(text)
    if number is None:
        raise ValueError(
            f"rating {text.strip()!r} is not positive/neutral/negative, a known word "
            "(love/good/bad, happy/neutral/unhappy) or a number"
        )
    if scale is None or scale is RatingScale.WORDS:
        raise ValueError(
            f"rating {number}: the scale is ambiguous (1-5 or 0-10); give --scale 1-5 or 0-10"
        )
    return rating_from_number(number, scale)


def latest_ratings(ratings: Iterable[Rating]) -> list[Rating]:
    """Per ticket and respondent, the latest rating (by ``rated_at``; on a tie, the one
    given last), ordered by ticket, then respondent."""
    latest: dict[tuple[int, str], Rating] = {}
    for rating in ratings:
        key = (rating.ticket_id, rating.respondent)
        held = latest.get(key)
        if held is None or rating.rated_at >= held.rated_at:
            latest[key] = rating
    return [latest[key] for key in sorted(latest)]


@dataclass(frozen=True, slots=True)
class CreditedRating:
    """A rating as standings count it: credited to one member, with its ticket's scope and
    categories (``metrics.evaluate``, population ``RATED``)."""

    member: str
    ticket_id: int
    value: RatingValue
    rated_at: datetime
    in_scope: bool
    category_mask: int

    @property
    def positive(self) -> bool:
        return self.value is RatingValue.POSITIVE

    @property
    def neutral(self) -> bool:
        return self.value is RatingValue.NEUTRAL

    @property
    def negative(self) -> bool:
        return self.value is RatingValue.NEGATIVE


@dataclass(frozen=True, slots=True)
class RatedTicket:
    """What crediting needs of a rating's ticket."""

    resolver_key: str | None
    owner_key: str | None
    in_scope: bool
    category_mask: int


def credit_ratings(
    ratings: Iterable[Rating],
    *,
    tickets: Mapping[int, RatedTicket],
    credit: Credit,
    workers: Mapping[int, Sequence[str]],
) -> list[CreditedRating]:
    """The latest ratings, each credited by ``credit``: to its ticket's resolver, its owner,
    or every member who logged time on it (once each). A rating whose ticket is unknown, or
    that has nobody to credit, counts for nobody."""
    credited: list[CreditedRating] = []
    for rating in latest_ratings(ratings):
        ticket = tickets.get(rating.ticket_id)
        if ticket is None:
            continue
        match credit:
            case Credit.RESOLVER:
                members = [ticket.resolver_key] if ticket.resolver_key else []
            case Credit.OWNER:
                members = [ticket.owner_key] if ticket.owner_key else []
            case Credit.WORKED:
                members = sorted(set(workers.get(rating.ticket_id, ())))
        credited.extend(
            CreditedRating(
                member,
                rating.ticket_id,
                rating.value,
                rating.rated_at,
                ticket.in_scope,
                ticket.category_mask,
            )
            for member in members
        )
    return credited
