"""Ratings from another survey tool's export: ``deskboard csat import FILE.csv`` (and the
``--ratings`` file of ``deskboard metrics``).

The file is a CSV with a header row. Columns, by name (any case; spaces and ``-`` read as
``_``; other columns are ignored, as exports carry many):

- ``ticket_id`` (required): the ConnectWise ticket number, a leading ``#`` allowed;
- ``rating`` (required): positive/neutral/negative, love/good/bad (Crewhu),
  happy/neutral/unhappy (SmileBack), or a number on a 1–5 or 0–10 scale
  (docs/metrics.md, "Customer satisfaction");
- ``rated_at`` (required): an ISO date-time; without an offset it is in the configured
  ``timezone`` (exports are in the MSP's local time); a date alone is local midnight;
- ``comment``, ``email`` (optional): the respondent is the e-mail in lower case; a row without
  one is the tool's only answer for its ticket (respondent ``import``).

The scale of numbers is ``--scale``, or recognized from the whole column when unambiguous (a
0 or a number above 5 means 0–10); numbers that fit both scales without ``--scale`` are bad
rows saying so. Bad rows are reported with their line (where the row starts, as a quoted
comment may span lines) and reason, and the good ones are stored. Storing goes through
``bot.core.ratings.store_ratings``: importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.ratings import store_ratings
from metrics.ratings import (
    Rating,
    RatingScale,
    RatingSource,
    infer_scale,
    rating_from_text,
    respondent_key,
)

REQUIRED = ("ticket_id", "rating", "rated_at")
IMPORT_RESPONDENT = "import"
MAX_COMMENT_CHARS = 4000
EARLIEST_YEAR, LATEST_YEAR = 1980, 2099


class RatingsFileError(Exception):
    """A file that cannot be read as ratings at all: nothing of it is stored."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class RatingsFile:
    ratings: list[Rating]
    problems: list[RowProblem]
    rows: int


@dataclass
class ImportReport:
    path: Path
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "rows": self.rows,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "refused": [{"line": p.line, "reason": p.reason} for p in self.problems],
        }


def _column(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _text_of(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RatingsFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RatingsFileError(f"{path}: is a directory") from None
    except OSError as exc:
        raise RatingsFileError(f"{path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RatingsFileError(f"{path}: not UTF-8 text") from None


def _ticket_id(text: str) -> int:
    cleaned = text.strip().removeprefix("#").strip()
    if not cleaned.isdigit() or int(cleaned) <= 0:
        raise ValueError(f"ticket_id {text.strip()!r} is not a ticket number")
    return int(cleaned)


def _rated_at(text: str, tz: ZoneInfo) -> datetime:
    cleaned = text.strip()
    try:
        if len(cleaned) == 10:
            day = date.fromisoformat(cleaned)
            moment = datetime(day.year, day.month, day.day, tzinfo=tz)
        else:
            parsed = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
            moment = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
    except ValueError:
        raise ValueError(f"rated_at {cleaned!r} is not an ISO date or date-time") from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"rated_at {cleaned!r} is not between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return moment


def read_ratings_csv(
    path: Path, *, scale: RatingScale | None, tz: ZoneInfo, source_name: str | None = None
) -> RatingsFile:
    """The ratings of a CSV export, and the rows that could not be read."""
    text = _text_of(path).replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RatingsFileError(f"{path}: empty (a header row is needed)") from None
    except csv.Error as exc:
        raise RatingsFileError(f"{path}: not CSV: {exc}") from None
    names = [_column(name) for name in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise RatingsFileError(
            f"{path}: missing column(s) {', '.join(missing)} "
            f"(needs {', '.join(REQUIRED)}; optional comment, email)"
        )
    at = {name: names.index(name) for name in (*REQUIRED, "comment", "email") if name in names}
    rows: list[tuple[int, list[str]]] = []
    problems: list[RowProblem] = []
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(RowProblem(line, f"not CSV: {exc}"))
            break
        if any(cell.strip() for cell in row):
            rows.append((line, row))
        line = reader.line_num + 1
    if scale is None:
        scale = infer_scale(_cell(row, at["rating"]) for _, row in rows)
    ratings: list[Rating] = []
    label = source_name or path.name
    for line, row in rows:
        try:
            ratings.append(_rating(row, at, scale=scale, tz=tz, ref=f"import:{label}:{line}"))
        except ValueError as exc:
            problems.append(RowProblem(line, str(exc)))
    problems.sort(key=lambda problem: problem.line)
    return RatingsFile(ratings, problems, len(rows))


def _cell(row: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index]


def _rating(
    row: Sequence[str], at: dict[str, int], *, scale: RatingScale | None, tz: ZoneInfo, ref: str
) -> Rating:
    for name in REQUIRED:
        if not _cell(row, at[name]).strip():
            raise ValueError(f"{name} is empty")
    comment = _cell(row, at.get("comment")).strip()[:MAX_COMMENT_CHARS] or None
    email = _cell(row, at.get("email")).strip()
    if email and "@" not in email:
        raise ValueError(f"email {email!r} is not an e-mail address")
    return Rating(
        ticket_id=_ticket_id(_cell(row, at["ticket_id"])),
        respondent=respondent_key(email=email, contact_id=None) or IMPORT_RESPONDENT,
        value=rating_from_text(_cell(row, at["rating"]), scale),
        rated_at=_rated_at(_cell(row, at["rated_at"]), tz),
        source=RatingSource.IMPORT,
        comment=comment,
        source_ref=ref,
    )


def import_ratings(
    engine: Engine,
    *,
    config: DeskboardConfig,
    path: Path,
    scale: RatingScale | None,
    now: datetime,
) -> ImportReport:
    """Read ``path`` and store its good rows; a file error stores nothing."""
    read = read_ratings_csv(path, scale=scale, tz=config.tz)
    changes = store_ratings(engine, config=config, ratings=read.ratings, now=now)
    new = sum(1 for change in changes if change.previous is None)
    report = ImportReport(path, rows=read.rows, problems=read.problems)
    report.new = new
    report.changed = len(changes) - new
    report.unchanged = len(read.ratings) - len(changes)
    return report
