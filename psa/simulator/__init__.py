"""A realistic fake ConnectWise PSA: a generated MSP and an HTTP server that serves it.

- ``generate_msp`` builds the MSP (members, boards, statuses, categories, companies,
  agreements) and its tickets as event timelines, deterministically from a seed.
- ``SimulatorServer`` serves it over HTTP as of a settable ``clock``: advance the clock and
  tickets move on (responses, hand-offs, waiting, resolutions, reopens).
- ``SimulatorServer.inject(Fault(...))`` makes it fail on purpose (``psa.simulator.faults``).
- ``python -m psa.simulator`` runs one from the command line.
"""

from psa.simulator.conditions import ConditionError, matches, parse_conditions
from psa.simulator.faults import Fault
from psa.simulator.generate import generate_msp
from psa.simulator.model import SimulatedMSP, SimulatedTicket, TicketEvent
from psa.simulator.server import ServedRequest, SimulatorServer

__all__ = [
    "ConditionError",
    "Fault",
    "ServedRequest",
    "SimulatedMSP",
    "SimulatedTicket",
    "SimulatorServer",
    "TicketEvent",
    "generate_msp",
    "matches",
    "parse_conditions",
]
