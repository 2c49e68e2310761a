"""Building ConnectWise ``conditions`` strings without quoting mistakes.

ConnectWise's query language: ``field op value`` joined by ``and``; strings in double quotes,
datetimes in square brackets, ``true``/``false``/``null`` bare, numbers bare, nested fields
with ``/`` (``board/id``), lists as ``in (1,2)``. Values are never pasted in raw: a company
name such as ``O"Brien \\ Sons`` becomes ``"O\\"Brien \\\\ Sons"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime

ConditionValue = str | int | float | bool | datetime | None

OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">=", "contains", "like", "not like"})
_FIELD = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*(/_?[A-Za-z][A-Za-z0-9_]*)*$")


def quote(value: ConditionValue) -> str:
    """One value in ConnectWise's condition syntax."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a condition value must be a finite number, not {value!r}")
        return repr(value)
    if isinstance(value, datetime):
        return f"[{format_datetime(value)}]"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    raise TypeError(f"cannot use a {type(value).__name__} in a ConnectWise condition")


def format_datetime(moment: datetime) -> str:
    """``2026-11-01T00:00:00Z``: UTC, whole seconds. A naive datetime is refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime {moment.isoformat()} has no time zone; pass an aware one")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_field(field: str) -> str:
    if not _FIELD.match(field):
        raise ValueError(f"not a ConnectWise field name: {field!r}")
    return field


def compare(field: str, operator: str, value: ConditionValue) -> str:
    """``field operator value``: ``compare("closedFlag", "=", False)`` → ``closedFlag = false``."""
    if operator not in OPERATORS:
        raise ValueError(f"unknown condition operator {operator!r}")
    return f"{_check_field(field)} {operator} {quote(value)}"


def equals(field: str, value: ConditionValue) -> str:
    return compare(field, "=", value)


def in_list(field: str, values: Iterable[ConditionValue]) -> str:
    """``field in (v1,v2)``; an empty list is refused because ConnectWise rejects ``in ()``."""
    quoted = [quote(value) for value in values]
    if not quoted:
        raise ValueError(f"an 'in' condition on {field} needs at least one value")
    return f"{_check_field(field)} in ({','.join(quoted)})"


def all_of(*conditions: str | None) -> str | None:
    """Join the given conditions with ``and``, skipping None and empty ones; None if none left."""
    parts = [condition.strip() for condition in conditions if condition and condition.strip()]
    return " and ".join(parts) if parts else None


def updated_after(moment: datetime) -> str:
    """Tickets (or any record) changed after ``moment``: ``lastUpdated > [..]``."""
    return compare("lastUpdated", ">", moment)


def board_in(board_ids: Iterable[int]) -> str:
    """Records on one of these boards: ``board/id in (1,2)``."""
    ids = list(board_ids)
    for board_id in ids:
        if isinstance(board_id, bool) or not isinstance(board_id, int):
            raise TypeError(f"board ids must be integers, not {board_id!r}")
    return in_list("board/id", ids)


def changed_tickets(updated_after: datetime | None, board_ids: Iterable[int] = ()) -> str | None:
    """Tickets changed after a moment on some boards; the sync's one query (and its count)."""
    ids = list(board_ids)
    return all_of(
        compare("lastUpdated", ">", updated_after) if updated_after is not None else None,
        board_in(ids) if ids else None,
    )
