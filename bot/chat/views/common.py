"""Shared by every view: how a person and a ticket are shown, and text limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from metrics.standings import Standing, Standings

SUMMARY_CHARS = 120  # a ticket summary in a message about that one ticket
SHORT_SUMMARY_CHARS = 80  # a ticket summary in a list of tickets
COMPANY_CHARS = 50
NAME_CHARS = 60
TROPHY = "🏆"
REASON_TEXT: dict[str, str] = {
    "uncategorized": "no type, subtype and item",
    "no_agreement": "no agreement",
    "catchall": "filed under the catch-all company",
}
"""What a nudge reason (``metrics.triggers.NudgeReason`` value) asks to fix, in words."""


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 ticket``, ``3 tickets``."""
    return f"{count} {word if count == 1 else many or word + 's'}"


@dataclass(frozen=True, slots=True)
class Person:
    """A technician as a message shows them. ``mention`` is the chat user id (``U123``);
    ``<@U123>`` is accepted too and stored as ``U123``. None: show ``display`` only.
    The caller makes an opted-out technician ``display="a teammate", mention=None``."""

    key: str
    display: str
    mention: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "display", shorten(self.display, NAME_CHARS) or self.key)
        if self.mention is not None:
            user = self.mention.strip().removeprefix("<@").removesuffix(">").split("|")[0]
            object.__setattr__(self, "mention", user or None)


def person_for(people: Mapping[str, Person], key: str) -> Person:
    """The caller's ``Person`` for a member key, or the key itself when it has none."""
    return people.get(key) or Person(key=key, display=key)


def unmentioned(person: Person) -> Person:
    return Person(key=person.key, display=person.display)


def find_standing(standings: Standings, member: str) -> Standing | None:
    for standing in (*standings.ranked, *standings.not_qualified):
        if standing.member == member:
            return standing
    return None


@dataclass(frozen=True, slots=True)
class TicketLine:
    """A ticket as a template shows it: texts already cut, ``missing`` in words."""

    ticket_id: int
    summary: str
    company: str
    url: str | None
    missing: str = ""


def ticket_line(
    ticket_id: int,
    summary: str,
    company: str,
    url: str | None,
    *,
    summary_chars: int = SUMMARY_CHARS,
    reasons: Sequence[str] = (),
) -> TicketLine:
    return TicketLine(
        ticket_id=ticket_id,
        summary=shorten(summary, summary_chars) or "(no summary)",
        company=shorten(company, COMPANY_CHARS),
        url=url,
        missing=", ".join(REASON_TEXT.get(r, r) for r in reasons),
    )


@dataclass(frozen=True, slots=True)
class ContestLine:
    """A contest in a list (``/deskboard contests``, the home view), in words."""

    name: str
    label: str
    when: str
    rules: str
    posts: str | None
    leaders: str | None = None
    mine: str | None = None
