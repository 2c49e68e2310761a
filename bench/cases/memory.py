"""Memory: peak RSS of syncing 200,000 tickets against syncing 20,000 (10× the tickets).

Each sync runs in a fresh process (``python -m bench.cases.memory_child N``, whose docstring
says exactly what is measured), with the simulator in a process of its own: the figure is
the increase of the resident set from just before the sync to its peak. A sync that holds
one page at a time grows little with the number of tickets; the goal is at most 1.3× the
increase for 10× the tickets. What still grows with them is the sync report's list of newly
resolved ticket ids (the kudos are decided from it), a few MB for 200,000.

``numbers_agree``: each sync stored every ticket it was given.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.core import CaseResult, Figure, Size
from bench.progress import step

SIZES: dict[str, tuple[int, int]] = {"small": (200, 2_000), "full": (20_000, 200_000)}
GOAL = 1.3
_REPO = Path(__file__).resolve().parents[2]


def child_run(tickets: int) -> dict[str, Any]:
    """Run one measured sync in a new interpreter and return what it reported."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.cases.memory_child", str(tickets)],
        cwd=_REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory_child {tickets} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(size: Size) -> CaseResult:
    few, many = SIZES[size]
    step(f"memory: sync of {few:,} tickets in a fresh process")
    small = child_run(few)
    step(f"memory: sync of {many:,} tickets in a fresh process")
    large = child_run(many)
    growth = large["increase_mib"] / small["increase_mib"] if small["increase_mib"] else None
    figure = Figure(
        f"sync's peak RSS increase, {many:,} vs {few:,} tickets",
        large["increase_mib"],
        small["increase_mib"],
        "MiB",
        f"≤ {GOAL:g}× for 10× the tickets",
        growth is not None and growth <= GOAL,
    )
    agree = small["stored"] == few and large["stored"] == many
    return CaseResult(
        "memory",
        size,
        [figure],
        numbers_agree=agree,
        details={
            "runs": [small, large],
            "measure": (
                "VmHWM after the sync minus VmRSS just before it, the peak mark reset there "
                "(/proc/self/clear_refs); a fresh process per size, the simulator in another"
            ),
        },
    )
