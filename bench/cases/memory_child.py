"""``python -m bench.cases.memory_child N``: one sync of N simulated tickets, measured alone.

Run in a fresh process by ``bench.cases.memory``; it prints one JSON object on stdout.

It starts the simulator with N tickets in a process of its own (``multiprocessing``, spawned)
and syncs from it over HTTP into a fresh SQLite file, as Deskboard syncs from ConnectWise:
this process holds only Deskboard. (With the simulator inside the measured process, the
generator's 900 MB left the heap full of freed holes that the sync then reused unseen: a
200,000-ticket sync appeared to need *less* than a 20,000 one.)

Measured, on Linux: just before the sync, after the imports, the database's creation and a
garbage collection, the **baseline** is the resident set size (``VmRSS``), and the kernel's
peak mark is reset to it (``echo 5 > /proc/self/clear_refs``); after the sync the **peak** is
that mark (``VmHWM``), the highest resident set size during the sync. The figure is the
**increase**, peak minus baseline, in MiB. ``VmHWM`` rather than ``ru_maxrss``: Linux hands
a process started by a large one (``python -m bench`` after the other cases) that one's peak
as its ``ru_maxrss``, which a reset does not clear. Elsewhere the peak is ``ru_maxrss`` and
``hwm_reset`` is false: the increase is then an upper bound.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from bench.simulated import Address, fresh_engine, simulated_msp, started_server, sync_from

SEED = 7
_KIB = 1024


def serve(tickets: int, connection: Connection) -> None:
    """The simulator's process: generate, serve, send the address, wait for the word to stop."""
    server = started_server(simulated_msp(tickets, seed=SEED))
    try:
        connection.send(Address.of(server))
        connection.recv()
    finally:
        server.stop()


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` figure in KiB ("VmRSS", "VmHWM"), or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Make the kernel's peak-RSS mark the current RSS; False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def _peak_kib() -> int:
    """``VmHWM`` where there is one, else ``ru_maxrss`` (KiB on Linux, bytes on macOS)."""
    peak = _status_kib("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss // _KIB if sys.platform == "darwin" else maxrss


def measure(tickets: int) -> dict[str, object]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    simulator = context.Process(target=serve, args=(tickets, theirs), daemon=True)
    simulator.start()
    try:
        address: Address = ours.recv()
        with tempfile.TemporaryDirectory(prefix="deskboard-bench-memory-") as folder:
            engine = fresh_engine(Path(folder) / "memory.db")
            gc.collect()
            hwm_reset = _reset_peak()
            baseline = _status_kib("VmRSS") or _peak_kib()
            began = time.perf_counter()
            synced = sync_from(address, engine, record_pages=False)
            seconds = time.perf_counter() - began
            peak = _peak_kib()
            engine.dispose()
    finally:
        ours.send("stop")
        simulator.join(timeout=30)
    return {
        "tickets": tickets,
        "stored": synced.report.inserted,
        "seconds": round(seconds, 3),
        "baseline_mib": round(baseline / _KIB, 1),
        "peak_mib": round(peak / _KIB, 1),
        "increase_mib": round(max(0, peak - baseline) / _KIB, 1),
        "hwm_reset": hwm_reset,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m bench.cases.memory_child TICKETS", file=sys.stderr)
        return 2
    print(json.dumps(measure(int(argv[0]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
