"""A contest's posting schedule in words ("every weekday at 9:00", "Mondays", "off") and
the cron line it stands for; a cron line is accepted as it is.

The words are what the contest form shows and what a manager types; the program keeps the
cron line (``ContestSection.post``), which ``deskboard config export`` writes and the
scheduler reads. Times are in the configured time zone.
"""

from __future__ import annotations

import re

from apscheduler.triggers.cron import CronTrigger

DEFAULT_TIME = (9, 0)
OFF_WORDS = frozenset({"", "off", "never", "none", "no"})

_DAYS = {
    "mon": "mon",
    "monday": "mon",
    "mondays": "mon",
    "tue": "tue",
    "tues": "tue",
    "tuesday": "tue",
    "tuesdays": "tue",
    "wed": "wed",
    "wednesday": "wed",
    "wednesdays": "wed",
    "thu": "thu",
    "thur": "thu",
    "thurs": "thu",
    "thursday": "thu",
    "thursdays": "thu",
    "fri": "fri",
    "friday": "fri",
    "fridays": "fri",
    "sat": "sat",
    "saturday": "sat",
    "saturdays": "sat",
    "sun": "sun",
    "sunday": "sun",
    "sundays": "sun",
}
_DAY_ORDER = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    "mon": "Mondays",
    "tue": "Tuesdays",
    "wed": "Wednesdays",
    "thu": "Thursdays",
    "fri": "Fridays",
    "sat": "Saturdays",
    "sun": "Sundays",
}
_TIME = re.compile(r"(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
EXAMPLES = '"every weekday at 9:00", "Mondays", "Mon and Thu at 16:30", "every day at 8am", "off"'


def _time(text: str) -> tuple[int, int] | None:
    match = _TIME.fullmatch(text.strip())
    if match is None:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return hour, minute


def _check_cron(text: str) -> str:
    if len(text.split()) != 5:
        raise ValueError(f"{text!r} is not a schedule: write it in words ({EXAMPLES}) or cron")
    try:
        CronTrigger.from_crontab(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid cron expression: {exc}") from None
    return text


def post_cron(text: str | None) -> str | None:
    """The cron line of a schedule in words (or of a cron line); None for "off".
    Raises ``ValueError`` naming the accepted forms."""
    words = " ".join((text or "").strip().casefold().replace(",", " ").split())
    if words in OFF_WORDS:
        return None
    if re.fullmatch(r"[\d*/,\-a-z]+( [\d*/,\-a-z]+){4}", words) and not re.search(
        r"\b(at|every|and)\b", words
    ):
        return _check_cron(" ".join((text or "").split()))
    head, sep, tail = words.partition(" at ")
    when = _time(tail) if sep else None
    if sep and when is None:
        raise ValueError(f"{tail!r} is not a time of day (9:00, 16:30, 8am)")
    if not sep:
        # "Mondays 9:00" or "every day 8am": a trailing time without "at"
        parts = head.rsplit(" ", 1)
        if len(parts) == 2 and _time(parts[1]) is not None:
            head, when = parts[0], _time(parts[1])
    hour, minute = when or DEFAULT_TIME
    head = head.removeprefix("every ").strip()
    if head in ("day", "days", "daily"):
        days = "*"
    elif head in ("weekday", "weekdays", "working day", "working days", "workday", "workdays"):
        days = "mon-fri"
    else:
        picked: list[str] = []
        for word in re.split(r"\s+|\band\b", head):
            if not word or word == "and":
                continue
            day = _DAYS.get(word)
            if day is None:
                raise ValueError(f"{text!r} is not a schedule: write it like {EXAMPLES}")
            if day not in picked:
                picked.append(day)
        if not picked:
            raise ValueError(f"{text!r} is not a schedule: write it like {EXAMPLES}")
        days = ",".join(sorted(picked, key=_DAY_ORDER.index))
    return f"{minute} {hour} * * {days}"


def post_words(cron: str | None) -> str:
    """A cron line in words where it has a plain form ("every weekday at 9:00"), else the
    cron line itself; "off" for none."""
    if cron is None:
        return "off"
    fields = cron.split()
    if (
        len(fields) != 5
        or fields[2:4] != ["*", "*"]
        or not fields[0].isdigit()
        or not fields[1].isdigit()
    ):
        return cron
    at = f"at {int(fields[1])}:{int(fields[0]):02d}"
    days = fields[4].casefold()
    if days in ("*", "mon-sun", "0-6"):
        return f"every day {at}"
    if days in ("mon-fri", "1-5"):
        return f"every weekday {at}"
    names = days.split(",")
    if all(n in _DAY_NAMES for n in names):
        listed = [_DAY_NAMES[n] for n in names]
        joined = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        return f"{joined} {at}"
    return cron
