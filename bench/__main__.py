"""``python -m bench [--size small|full] [--only CASE ...] [--out bench/results.json]``.

Runs the cases, prints one table (absolute figures, the ratio to the baseline, the goal and
whether it was met) and writes the results with the machine they were measured on. A missed
goal is a measurement, not a failure: the exit code is 0. It is 1 when a case crashed or
when Deskboard's numbers differ from the baseline's, since those are bugs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.cases import CASES
from bench.core import CaseResult, Figure, Size
from bench.machine import describe, machine_facts
from bench.progress import step

DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", choices=("small", "full"), default="full")
    parser.add_argument("--only", nargs="+", choices=CASES, metavar="CASE", help=", ".join(CASES))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    if unit == "ms":
        if value < 1:  # a single INSERT: a few hundredths of a millisecond
            return f"{value:.3f} ms"
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    return f"{value:.1f} {unit}"


def _table(results: Sequence[CaseResult]) -> Table:
    table = Table(title="Deskboard benchmarks")
    for name in ("case", "figure", "Deskboard", "baseline", "ratio", "goal", "met"):
        table.add_column(
            name, justify="right" if name in ("Deskboard", "baseline", "ratio") else "left"
        )
    for result in results:
        for figure in result.figures:
            ratio = "—" if figure.ratio is None else f"{figure.ratio:.2f}×"
            table.add_row(
                f"{result.case} ({result.size})",
                figure.label,
                _amount(figure.deskboard, figure.unit),
                _amount(figure.baseline, figure.unit),
                ratio,
                figure.goal,
                "[green]yes[/green]" if figure.met else "[red]no[/red]",
            )
    return table


def _run_case(
    name: str, size: Size, skipped: list[str], errors: list[dict[str, str]]
) -> CaseResult | None:
    try:
        module = importlib.import_module(f"bench.cases.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bench.cases.{name}":
            raise
        skipped.append(name)
        step(f"{name}: no module bench/cases/{name}.py, skipped")
        return None
    step(f"{name} ({size}) …")
    try:
        result: CaseResult = module.run(size)
    except Exception as exc:  # one broken case must not hide the others' figures
        errors.append({"case": name, "error": f"{type(exc).__name__}: {exc}"})
        traceback.print_exc()
        return None
    step(f"{name} done")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    size: Size = args.size
    names = [name for name in CASES if args.only is None or name in args.only]
    facts = machine_facts()
    results: list[CaseResult] = []
    skipped: list[str] = []
    errors: list[dict[str, str]] = []
    for name in names:
        result = _run_case(name, size, skipped, errors)
        if result is not None:
            results.append(result)

    # A wide table even when the output is a file or a pipe (Rich would wrap it at 80).
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(_table(results))
    console.print(f"Machine: {describe(facts)}")
    for name in skipped:
        console.print(f"skipped {name}: bench/cases/{name}.py is missing")
    for result in results:
        if "not_run" in result.details:
            console.print(f"[yellow]not run[/yellow]: {result.case}: {result.details['not_run']}")
    missed: list[tuple[CaseResult, Figure]] = [
        (r, f) for r in results for f in r.figures if not f.met
    ]
    if size == "small":
        console.print("The goals are set for the full size; a small run checks the numbers.")
    for result, figure in missed:
        console.print(f"[red]goal missed[/red]: {result.case} — {figure.label}: {figure.goal}")
    if not missed and results:
        console.print("[green]every goal met[/green]")
    disagree = [r.case for r in results if not r.numbers_agree]
    for case in disagree:
        console.print(f"[red]numbers differ from the baseline's[/red] in {case}: a bug")
    for error in errors:
        console.print(f"[red]{error['case']} failed[/red]: {error['error']}")

    payload: dict[str, Any] = {
        "machine": facts,
        "size": size,
        "cases": [r.as_json() for r in results],
        "skipped": skipped,
        "errors": errors,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    console.print(f"results written to {args.out}")
    return 1 if errors or disagree else 0


if __name__ == "__main__":
    raise SystemExit(main())
