"""``python -m psa.connectwise.simulator --port 8765 --seed 7``: serve a simulated ConnectWise until
Ctrl-C. Tickets are generated from ``--days`` before now to ``--ahead-hours`` after it; the
clock starts now and, with ``--speed``, runs that many simulated seconds per real second,
so repeated syncs see new tickets arrive and old ones move on."""

from __future__ import annotations

import argparse
import signal
import time
from datetime import UTC, datetime, timedelta

from psa.connectwise.simulator.generate import generate_msp
from psa.connectwise.simulator.server import SimulatorServer


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m psa.connectwise.simulator", description=__doc__
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=60, help="days of history (default 60)")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        help="the starting clock, ISO-8601 (default: now, to the minute)",
    )
    parser.add_argument(
        "--ahead-hours",
        type=float,
        default=72.0,
        help="hours of tickets generated after the clock, revealed as it runs (default 72)",
    )
    parser.add_argument("--tickets-per-workday", type=float, default=40.0)
    parser.add_argument("--timezone", default="America/Chicago")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default 1: real time; 0: frozen)",
    )
    parser.add_argument("--no-link-headers", action="store_true")
    return parser.parse_args(argv)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # a process manager's stop is a Ctrl-C too
    now = args.now or datetime.now(UTC).replace(second=0, microsecond=0)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    msp = generate_msp(
        seed=args.seed,
        start=now - timedelta(days=args.days),
        end=now + timedelta(hours=args.ahead_hours),
        tickets_per_workday=args.tickets_per_workday,
        timezone=args.timezone,
    )
    server = SimulatorServer(
        msp, host=args.host, port=args.port, clock=now, link_headers=not args.no_link_headers
    )
    with server:
        clock = f"{server.clock:%Y-%m-%d %H:%M}Z"
        print(f"ConnectWise simulator: {len(msp.tickets)} tickets generated, clock {clock}")
        print(f"  base URL     {server.url}")
        print(f"  company      {server.company}")
        print(f"  public key   {server.public_key}")
        print(f"  private key  {server.private_key}")
        print(f"  clientId     {server.client_id}")
        print("Ctrl-C to stop.", flush=True)
        try:
            started, origin = time.monotonic(), server.clock
            while True:
                time.sleep(0.5)
                if args.speed > 0:
                    elapsed = (time.monotonic() - started) * args.speed
                    server.clock = origin + timedelta(seconds=elapsed)
        except KeyboardInterrupt:
            print("stopped")


if __name__ == "__main__":
    main()
