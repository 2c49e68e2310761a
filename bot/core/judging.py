"""Judging each stored resolution once: does it earn kudos, what should it be nudged for.

``judge_resolutions`` decides, for every *fresh* resolution not judged yet, whether it earns
kudos and what its resolver should fix, and records both. It is chat-neutral and runs after
every path that stores tickets: the poll (``deskboard run``'s scheduler, ``/deskboard sync``,
the ``deskboard sync`` command line), a ConnectWise callback's push, and a nudge fix. The
store marks each new or changed resolution unjudged (``tickets.judged_at`` NULL), so a path
that dies between storing and judging leaves it to the next one, and a resolution is judged
once whichever path stored it (kudos and nudges are also recorded at most once per ticket,
so two processes judging at the same moment record nothing twice).

- Only *fresh* resolutions count: resolved at most ``FRESH`` before the judging, so a
  resolution stored late (the bot was down for a week) is not news any more.
- Resolutions from before the first sync started (``sync_state.judging_since``) are judged
  quietly: marked, with no kudos and no nudge. Installing Deskboard mid-day must not send
  last night's resolutions to the kudos channel and two hundred nudges to the technicians at
  once; it celebrates and nudges what is resolved after it started watching. The moment is
  kept from the first sync's start, so a first sync that dies and runs again later still
  celebrates what was resolved in between.
- Kudos are recorded whatever the chat platforms; posting them is ``bot.core.notices``' and
  ``bot.core.posting``'s business.
- Excluded members, opted-out technicians and tickets on unselected boards get neither.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from metrics.derive import derive
from metrics.triggers import NudgeReason, earns_kudos, nudge_reasons
from storage import notices, people, repo
from storage.db import session_scope

log = logging.getLogger(__name__)

FRESH = timedelta(hours=24)
JUDGE_BATCH = 500
"""Resolutions judged per transaction: their kudos, nudges and judged mark commit together."""


@dataclass
class NoticeReport:
    judged: int = 0
    kudos_recorded: int = 0
    nudges_recorded: int = 0


def judge_resolutions(engine: Engine, *, config: DeskboardConfig, now: datetime) -> NoticeReport:
    """Judge every fresh resolution not judged yet: record its kudos and nudges, mark it.
    One resolved before Deskboard started watching (``judging_since``) is marked only."""
    report = NoticeReport()
    params = config.derive_params()
    reasons_on = [NudgeReason(r) for r in config.nudges.reasons] if config.nudges.enabled else []
    while True:
        with session_scope(engine) as session:
            ids = notices.unjudged_resolutions(session, since=now - FRESH, limit=JUDGE_BATCH)
            if not ids:
                break
            excluded = config.excluded_members | people.opted_out(session)
            since = repo.get_sync_state(session).judging_since
            for record in repo.get_tickets(session, ids=ids):
                ticket = derive(record, params=params)
                member, resolved_at = ticket.resolver_key, ticket.resolved_at
                if member is None or resolved_at is None or (since and resolved_at < since):
                    continue
                if earns_kudos(ticket, excluded=excluded):
                    report.kudos_recorded += notices.record_kudos(
                        session,
                        ticket_id=record.id,
                        member_key=member,
                        resolved_at=resolved_at,
                        at=now,
                    )
                reasons = nudge_reasons(ticket, enabled=reasons_on, excluded=excluded)
                if reasons:
                    rows = notices.record_nudges(
                        session, items=[(record.id, r.value, member) for r in reasons], at=now
                    )
                    report.nudges_recorded += len(rows)
            notices.mark_judged(session, ticket_ids=ids, at=now)
            report.judged += len(ids)
    if report.judged:
        log.info(
            "judged %d resolutions: %d kudos, %d nudges",
            report.judged,
            report.kudos_recorded,
            report.nudges_recorded,
        )
    return report
