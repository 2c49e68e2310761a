"""Progress lines on stderr while a case runs: a full run takes minutes."""

from __future__ import annotations

import sys
import time

_STARTED = time.perf_counter()


def step(text: str) -> None:
    """Print ``text`` with the seconds since the benchmarks started."""
    print(f"[{time.perf_counter() - _STARTED:7.1f} s] {text}", file=sys.stderr, flush=True)
