"""The benchmark cases: each module's ``run(size) -> bench.core.CaseResult``.

``CASES`` is the order ``python -m bench`` runs them in; a module that is missing is skipped
with a note.
"""

CASES: tuple[str, ...] = (
    "ingest",
    "standings",
    "memory",
    "command",
    "mixed",
    "freshness",
    "notes",
    "push",
    "alerts",
    "csat",
    "wallboard",
    "postgresql",
)
