"""What Teams listeners need, built once in the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from bot.chat.messenger import Messenger
from bot.config import DeskboardConfig
from bot.core.fixes import CatalogCache
from bot.core.links import TicketLink
from bot.core.program import FollowsProgram, LiveConfig
from bot.core.runtime import ClientFactory, Runtime
from bot.core.sync import SyncReport
from bot.settings import Settings
from bot.teams.identity import RosterCache, TeamsIdentity


@dataclass(frozen=True)
class TeamsDeps(FollowsProgram):
    """What listeners need, built once in the composition root."""

    engine: Engine
    config: DeskboardConfig
    settings: Settings
    clock: Callable[[], datetime]
    psa: ClientFactory
    messenger: Messenger
    ticket_link: TicketLink
    sync: Callable[[], SyncReport] | None = None  # e.g. Runtime.sync; default: see run_sync
    catalogs: CatalogCache = field(default_factory=CatalogCache)
    live: LiveConfig | None = None  # the program as it changes (None: ``config`` for ever)
    roster: RosterCache = field(default_factory=RosterCache)
    accounts_seen: dict[str, str] = field(default_factory=dict)  # Entra object id → user id

    def identity(self) -> TeamsIdentity:
        return TeamsIdentity(
            engine=self.engine, clock=self.clock, admins=self.current.admins_of("teams")
        )

    def run_sync(self) -> SyncReport:
        """A sync with what follows it (kudos, nudges, delivery), as the scheduler runs it."""
        if self.sync is not None:
            return self.sync()
        runtime = Runtime(
            engine=self.engine,
            config=self.config,
            live=self.live,
            messengers=(self.messenger,),
            psa=self.psa,
            clock=self.clock,
            ticket_link=self.ticket_link,
        )
        return runtime.sync()
