"""The stored per-ticket values follow the configuration in force, for every reader.

Each ticket's derived values (``metrics.derive``: business minutes, waiting time, category
bits, scope...) depend on the configuration: business hours and holidays, waiting statuses,
categories and their order, boards, the Catchall company. The sync state keeps a fingerprint
of what they were derived with. Whoever reads numbers (``bot.core.reports``: standings, metrics,
posts, commands) or stores tickets (``bot.core.sync``) first calls ``ensure_derived``: when the
fingerprint differs, every stored ticket is derived again, before a single number is read.
So an edited ``deskboard.toml`` shows in ``deskboard standings`` at once, without a sync.

Processes sharing a database should run with the same configuration: two different ones
would each derive the tickets again for their own.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import DeskboardConfig
from metrics.derive import DERIVATION_VERSION, DeriveParams
from metrics.waiting import WaitingRule
from storage import repo
from storage.db import SYNC_LOCK, one_at_a_time, session_scope

log = logging.getLogger(__name__)

_REDERIVING = threading.Lock()
"""Readers of one process derive one at a time (the sync lock spans processes on PostgreSQL
only): the first derives, the others wait and find the values current."""


def derive_fingerprint(params: DeriveParams, rule: WaitingRule) -> str:
    text = repr(
        (DERIVATION_VERSION, params.fingerprint, rule.patterns, sorted(rule.no_escalation_names))
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stored_waiting_rule(session: Session, config: DeskboardConfig) -> WaitingRule:
    """What counts as waiting: the configured status patterns plus the stored boards'
    NoEscalation statuses. The poll, a push and a nudge fix all derive with this rule."""
    statuses = repo.list_board_statuses(session)
    return WaitingRule.from_statuses(config.business_hours.waiting_statuses, statuses)


def _stale(
    engine: Engine, config: DeskboardConfig, params: DeriveParams
) -> tuple[str, WaitingRule] | None:
    """The fingerprint and rule to derive with; None when the stored values are current."""
    with session_scope(engine) as session:
        rule = stored_waiting_rule(session, config)
        fingerprint = derive_fingerprint(params, rule)
        current = repo.get_sync_state(session).derive_fingerprint == fingerprint
    return None if current else (fingerprint, rule)


def rederive_if_stale(engine: Engine, *, config: DeskboardConfig, params: DeriveParams) -> int:
    """``ensure_derived`` for a caller that already holds the sync lock (the sync itself)."""
    found = _stale(engine, config, params)
    if found is None:
        return 0
    fingerprint, rule = found
    with session_scope(engine) as session:
        count = repo.rederive_all(
            session, params=params, waiting_rule=rule, fingerprint=fingerprint
        )
    log.info("the configuration changed: derived the values of %d tickets again", count)
    return count


def ensure_derived(
    engine: Engine, *, config: DeskboardConfig, params: DeriveParams | None = None
) -> int:
    """Derive every stored ticket again if the configuration changed since they were
    derived; returns how many were (0 when they were current). One process at a time: a
    sync, or another reader, that is deriving them is waited for."""
    params = params or config.derive_params()
    if _stale(engine, config, params) is None:
        return 0
    with _REDERIVING, one_at_a_time(engine, key=SYNC_LOCK):
        return rederive_if_stale(engine, config=config, params=params)
