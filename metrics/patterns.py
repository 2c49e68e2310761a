"""Case-insensitive ``*`` patterns as config lists write them: ``"Waiting*"``, ``"*Urgent*"``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in pattern.split("*"))
    return re.compile(".*".join(parts), re.IGNORECASE | re.DOTALL)


def matches_any(value: str | None, patterns: Iterable[str]) -> bool:
    """True when ``value`` matches one of the patterns as a whole; None matches nothing."""
    if value is None:
        return False
    return any(_compile(p).fullmatch(value) for p in patterns)
