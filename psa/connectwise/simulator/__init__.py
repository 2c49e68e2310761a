"""A realistic fake ConnectWise PSA: a generated MSP and an HTTP server that serves it.

- ``generate_msp`` builds the MSP (members, boards, statuses, categories, companies,
  agreements) and its tickets as event timelines, deterministically from a seed.
- ``SimulatorServer`` serves it over HTTP as of a settable ``clock``: advance the clock and
  tickets move on (responses, hand-offs, waiting, resolutions, reopens).
- ``SimulatorServer.inject(Fault(...))`` makes it fail on purpose
(``psa.connectwise.simulator.faults``).
- ``python -m psa.connectwise.simulator`` runs one from the command line.

What it models of ConnectWise PSA (Manage), API version 2025.1 (routes in
``psa.connectwise.simulator.api``): tickets (list, count, one, PATCH), their notes (list, POST),
boards
with their statuses, types, subtypes, items, type/subtype/item associations and teams,
priorities, sources, members, companies, contacts, agreements, callbacks and the system
info. Every object it serves has only fields of the 2025.1 model of its endpoint (Ticket,
ServiceNote, Board, BoardStatus, BoardType, BoardSubType, BoardItem,
BoardTypeSubTypeItemAssociation, BoardTeam, Priority, Source, Member, Company, Contact,
Agreement, CallbackEntry, Info), with the model's JSON types, every field the model requires,
and no nulls (ConnectWise omits them); tickets and notes carry every field seen in responses
captured from real servers. ``tests/psa/connectwise/connectwise_models.py`` holds those
models and says where they come from; ``tests/psa/connectwise/simulator/test_models.py``
checks every route against them.
PATCH takes the JSON Patch paths real clients send (``psa.connectwise.simulator.patching``).

Surveys, their questions and results, and time entries for one ticket are served by
``psa.connectwise.simulator.surveys``.

Not modeled: creating or deleting tickets (POST, PUT, DELETE), writing time entries, the
audit trail, schedule entries, configurations and activities; embedded references carry no
``_info`` links.
"""

from psa.connectwise.simulator.conditions import ConditionError, matches, parse_conditions
from psa.connectwise.simulator.faults import Fault
from psa.connectwise.simulator.generate import generate_msp
from psa.connectwise.simulator.model import SimulatedMSP, SimulatedTicket, TicketEvent
from psa.connectwise.simulator.server import ServedRequest, SimulatorServer

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
