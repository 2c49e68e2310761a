"""Technicians ↔ Teams users, and who counts as a Deskboard admin on Teams.

Teams has no "look a user up by email" call for bots; what it has is the roster of each
conversation the bot is in (``GET /v3/conversations/{id}/members[/{user}]``), whose entries
carry the user's email and user principal name. So matching runs the other way round from
Slack:

- When someone messages the bot, their roster entry is read (cached in memory for
  ``ROSTER_VALID_FOR``) and its email or UPN matched against the technicians' ConnectWise
  emails; a unique match is stored (``bot.core.identity``, platform ``"teams"``, source
  ``"email"``). When the bot is installed in a team, the whole roster is matched at once.
- ``/deskboard link @user IDENTIFIER`` stores an admin's choice (source ``"link"``), which no
  email match replaces.
- The stored user id is the Bot Framework user id (``29:...``): the one activities, mentions
  and rosters all carry, and the one a personal conversation is stored under.
- Admins: whoever ``[teams] admins`` names, by email, UPN, ConnectWise member identifier,
  Teams user id or Entra object id. Teams tells a bot nothing about tenant admin roles.

Connector errors while reading a roster are logged and answered as "not known": they must
not break a command, and nothing wrong is stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from microsoft_teams.api import ApiClient, TeamsChannelAccount
from sqlalchemy import Engine

from bot.core import identity as stored
from bot.core.identity import casefold as _casefold
from metrics.records import Member

log = logging.getLogger(__name__)

PLATFORM = "teams"
ROSTER_VALID_FOR = timedelta(days=1)
ROSTER_PAGE_SIZE = 500
MAX_ROSTER_PAGES = 20  # 10,000 people: more than any MSP's team


@dataclass(frozen=True, slots=True)
class TeamsUser:
    """A person as a Teams roster describes them."""

    id: str  # the Bot Framework user id ("29:..."), what activities and mentions carry
    name: str | None = None
    aad_object_id: str | None = None
    email: str | None = None
    upn: str | None = None  # user principal name, usually the sign-in address

    @property
    def addresses(self) -> frozenset[str]:
        """The user's email and UPN, casefolded: what a technician's email may equal."""
        return frozenset(a for a in (_casefold(self.email), _casefold(self.upn)) if a)


def teams_user(account: TeamsChannelAccount) -> TeamsUser:
    return TeamsUser(
        id=account.id,
        name=account.name,
        aad_object_id=account.aad_object_id,
        email=account.email,
        upn=account.user_principal_name,
    )


def user_from_activity(raw: dict[str, Any]) -> TeamsUser | None:
    """Who sent an activity (its ``from``), without the roster's email."""
    sender = raw.get("from") or {}
    user_id = str(sender.get("id") or "")
    if not user_id:
        return None
    return TeamsUser(
        id=user_id,
        name=sender.get("name") or None,
        aad_object_id=sender.get("aadObjectId") or None,
    )


class RosterCache:
    """Roster entries by user id, each trusted for ``ttl``; safe to share between threads."""

    def __init__(
        self,
        *,
        ttl: timedelta = ROSTER_VALID_FOR,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl.total_seconds()
        self.monotonic = monotonic
        self._entries: dict[str, tuple[float, TeamsUser]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> TeamsUser | None:
        with self._lock:
            entry = self._entries.get(user_id)
        if entry is None or self.monotonic() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def put(self, user: TeamsUser) -> None:
        with self._lock:
            self._entries[user.id] = (self.monotonic(), user)


async def fetch_user(
    api: ApiClient, *, conversation_id: str, user_id: str, cache: RosterCache | None = None
) -> TeamsUser | None:
    """The user's roster entry in the conversation (email, UPN), or None if unreadable."""
    if cache is not None:
        cached = cache.get(user_id)
        if cached is not None:
            return cached
    try:
        account = await api.conversations.get_member_by_id(conversation_id, user_id)
    except Exception as exc:  # a connector or network failure: "not known" this time
        log.warning("Teams roster entry of %s unreadable: %s", user_id, exc)
        return None
    user = teams_user(account)
    if cache is not None:
        cache.put(user)
    return user


async def fetch_roster(api: ApiClient, *, conversation_id: str) -> list[TeamsUser]:
    """Everyone in the conversation (a team's roster when it is a team's channel)."""
    users: list[TeamsUser] = []
    token: str | None = None
    try:
        for _ in range(MAX_ROSTER_PAGES):
            page = await api.conversations.get_paged_members(
                conversation_id, page_size=ROSTER_PAGE_SIZE, continuation_token=token
            )
            users.extend(teams_user(m) for m in page.members or [])
            token = page.continuation_token
            if not token:
                break
    except Exception as exc:
        log.warning("Teams roster of %s unreadable: %s", conversation_id, exc)
    return users


class TeamsIdentity:
    """Matching and admin checks over the database; cheap to build, so build one per use."""

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Callable[[], datetime],
        admins: Sequence[str] = (),
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.admins = frozenset(a for a in (_casefold(x) for x in admins) if a)

    # ---- Teams user → technician ---------------------------------------------------------

    def member_for_user(self, user_id: str) -> str | None:
        """The technician this Teams user is, as stored (linked or matched before)."""
        return stored.member_for_chat_user(self.engine, platform=PLATFORM, user_id=user_id)

    def match(self, user: TeamsUser) -> str | None:
        """The technician this user is: as stored, else by email/UPN (then stored)."""
        known = self.member_for_user(user.id)
        if known is not None:
            return known
        return self._match(user)

    def match_roster(self, users: Iterable[TeamsUser]) -> int:
        """Match every user of a roster; returns how many are now matched to a technician."""
        members = stored.members(self.engine)
        return sum(
            1
            for user in users
            if self.member_for_user(user.id) is not None or self._match(user, members)
        )

    def _match(self, user: TeamsUser, members: list[Member] | None = None) -> str | None:
        # Nobody, or an ambiguous email, is None: an admin can /deskboard link. An admin's
        # link of that technician to someone else stays: match_by_email reads back what holds.
        return stored.match_by_email(
            self.engine,
            platform=PLATFORM,
            user_id=user.id,
            addresses=user.addresses,
            clock=self.clock,
            among=members,
        )

    def remember_accounts(self, users: Iterable[TeamsUser]) -> None:
        """Keep each user's Entra object id beside their Teams user id: the personal tab
        signs in with the first (``bot.core.teams_tab``)."""
        accounts = [(u.aad_object_id, u.id) for u in users if u.aad_object_id]
        if accounts:
            stored.remember_teams_accounts(self.engine, accounts, at=self.clock())

    # ---- technician → Teams user ---------------------------------------------------------

    def user_for_member(self, key: str) -> str | None:
        """The technician's Teams user id, when matched or linked."""
        return stored.chat_user(self.engine, platform=PLATFORM, member_key=key)

    # ---- admins --------------------------------------------------------------------------

    def is_admin(self, user: TeamsUser) -> bool:
        """Named in ``[teams] admins`` by any of the user's names, or as their technician
        (member identifier or ConnectWise email)."""
        if not self.admins:
            return False
        names = {_casefold(user.id), _casefold(user.aad_object_id), *user.addresses}
        if self.admins & {n for n in names if n}:
            return True
        key = self.member_for_user(user.id)
        if key is None:
            return False
        member = stored.member(self.engine, key)
        return key in self.admins or (member is not None and _casefold(member.email) in self.admins)
