"""The machine a run was measured on, for ``results.json`` and the README."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _proc_value(path: str, key: str) -> str | None:
    """The value of the first ``key: value`` line of a /proc file, or None."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def _memory_gib() -> float | None:
    total = _proc_value("/proc/meminfo", "MemTotal")  # "24576000 kB"
    if total is None or not total.split()[0].isdigit():
        return None
    return round(int(total.split()[0]) / 1024 / 1024, 1)


def machine_facts() -> dict[str, Any]:
    return {
        "cpu": _proc_value("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def describe(facts: dict[str, Any]) -> str:
    """One line: "AMD EPYC, 2 cores, 23.4 GiB, Python 3.11.7, SQLite 3.40.1"."""
    memory = f"{facts['memory_gib']} GiB" if facts.get("memory_gib") else "memory unknown"
    return (
        f"{facts['cpu']}, {facts['cores']} cores, {memory}, "
        f"Python {facts['python']}, SQLite {facts['sqlite']}"
    )
