"""``backlog`` is what a technician still has to do (docs/metrics.md, "Beyond Crewhu"): open
tickets they own, not resolved and not closed; a resolved ticket waiting to be closed is not
backlog. The SQL and the plain-Python reference agree."""

from __future__ import annotations

from sqlalchemy import Engine

from metrics import evaluate
from metrics.definitions import METRICS_BY_KEY, MetricRef, TimeBasis
from metrics.derive import derive
from metrics.records import TicketRecord
from storage import standings
from storage.db import session_scope
from tests.storage.helpers import nov, upsert
from tests.storage.test_standings import NOVEMBER, PARAMS, SD

TICKETS = [
    # dana resolved 20 (so she is a member of November) and owns it: waiting to be closed
    TicketRecord(id=20, board=SD, status="Resolved", owner="dana", resolver="dana",
                 resolved_at=nov(10), entered_at=nov(9), updated_at=nov(10)),
    TicketRecord(id=21, board=SD, status="In Progress", owner="dana", entered_at=nov(9),
                 updated_at=nov(9)),  # open: backlog
    TicketRecord(id=22, board=SD, status="Closed", closed=True, owner="dana", entered_at=nov(9),
                 updated_at=nov(9)),  # closed without a resolution: not backlog
    TicketRecord(id=23, board=SD, status="Resolved", owner="dana", entered_at=nov(9),
                 resolved_at=nov(11), updated_at=nov(11)),  # resolved, resolver unknown
]  # fmt: skip
BACKLOG = [MetricRef(METRICS_BY_KEY["backlog"])]


def test_a_resolved_ticket_waiting_to_be_closed_is_not_backlog(engine: Engine):
    upsert(engine, TICKETS, params=PARAMS)
    with session_scope(engine) as session:
        got = standings.member_values(
            session,
            window=NOVEMBER,
            refs=BACKLOG,
            basis=TimeBasis.CALENDAR,
            working_days=20,
            category_bits={},
        )
    reference = evaluate.member_values(
        [derive(t, params=PARAMS) for t in TICKETS],
        window=NOVEMBER,
        refs=BACKLOG,
        basis=TimeBasis.CALENDAR,
        working_days=20,
        category_bits={},
    )
    assert got["dana"].values["backlog"] == 1  # 21 only
    assert reference["dana"].values["backlog"] == 1
