"""``deskboard run``'s scheduled work as a process the crash test can SIGKILL.

Built exactly as ``deskboard run`` builds it (settings from the environment, the config
file, ``bot.service.build_service``, ``bot.core.scheduler.build_scheduler``), with one
difference: the clock reads the step being run instead of the wall clock, so that every
restart of a step sees the same moment as the simulator. For each step not yet done it
prints ``STEP i``, waits for a line on stdin (the test sets the simulator's clock and arms
its kill meanwhile), runs the scheduler's ``sync`` job and then its ``deliver`` job (their
``_guarded`` wrappers, as the scheduler would), and records the step as done in
``--progress``. It prints ``DONE`` and exits 0 after the last step.

    python -m tests.faults.crash_driver --config deskboard.toml --progress progress.txt \\
        --at 2026-11-19T15:00:00+00:00 --at 2026-11-19T18:00:00+00:00 ...
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from datetime import datetime
from pathlib import Path

from rich.console import Console

from bot.config import load_config
from bot.core.scheduler import build_scheduler
from bot.service import build_service
from bot.settings import load_settings
from bot.wiring import open_engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--progress", type=Path, required=True)
    parser.add_argument("--at", type=datetime.fromisoformat, action="append", required=True)
    args = parser.parse_args()
    settings = load_settings()
    config = load_config(args.config, required=True)
    engine = open_engine(settings)
    service = build_service(settings, config, engine, dry_run=False, console=Console())
    moment: list[datetime] = [args.at[0]]
    runtime = dataclasses.replace(service.runtime, clock=lambda: moment[0])
    jobs = {job.id: job.func for job in build_scheduler(runtime, now=moment[0]).get_jobs()}
    done = int(args.progress.read_text()) if args.progress.exists() else 0
    for index in range(done, len(args.at)):
        print(f"STEP {index}", flush=True)
        sys.stdin.readline()
        moment[0] = args.at[index]
        jobs["sync"]()
        jobs["deliver"]()
        partial = args.progress.with_suffix(".partial")
        partial.write_text(str(index + 1))
        os.replace(partial, args.progress)
    print("DONE", flush=True)
    service.close()


if __name__ == "__main__":
    main()
