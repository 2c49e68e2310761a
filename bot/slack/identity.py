"""Technicians ↔ Slack users, and who counts as a Deskboard admin on Slack.

- A technician's Slack user is found by the email ConnectWise has for them
  (``users.lookupByEmail``). Hits and misses are both stored (``bot.core.identity``) and trusted
  for ``LOOKUP_VALID_FOR``; after that the next use asks Slack again. ``/deskboard link``
  (``bot.core.commands``) stores an admin's choice, which no lookup replaces and never expires.
- The other way (who ran this command?): the stored mapping, else the Slack user's email
  (``users.info``) matched against the technicians' emails, stored for next time.
- Admins: workspace admins and owners (``users.info``), and whoever ``[slack] admins``
  names, by Slack user id, email or ConnectWise member identifier.

Slack errors other than "no such user" are logged and answered as "not known": a missing
scope or a rate limit must not break a command, and nothing wrong is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.core import identity as stored
from bot.core.identity import casefold as _casefold
from metrics.records import Member

log = logging.getLogger(__name__)

PLATFORM = "slack"
LOOKUP_VALID_FOR = timedelta(days=1)
NOT_FOUND_ERRORS = frozenset({"users_not_found", "user_not_found"})


class SlackIdentity:
    """Look-ups for one Slack workspace; cheap to build, so build one per request."""

    def __init__(
        self,
        client: WebClient,
        *,
        engine: Engine,
        clock: Callable[[], datetime],
        admins: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.engine = engine
        self.clock = clock
        self.admins = frozenset(a for a in (_casefold(x) for x in admins) if a)
        self._users: dict[str, dict[str, Any] | None] = {}

    # ---- technician → Slack user ---------------------------------------------------------

    def user_for_member(self, key: str) -> str | None:
        """The technician's Slack user id, asking Slack when the stored answer is stale."""
        now = self.clock()
        known = stored.stored_chat_user(self.engine, platform=PLATFORM, member_key=key)
        user_id, checked = known.user_id, known.checked_at
        if known.linked or (checked is not None and now - checked < LOOKUP_VALID_FOR):
            return user_id
        member = self._member(key)
        email = member.email if member is not None else None
        found: str | None = None
        if email:
            try:
                reply = self.client.users_lookupByEmail(email=email)
                found = str(reply["user"]["id"])
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                if error not in NOT_FOUND_ERRORS:
                    log.warning("users.lookupByEmail for %s failed: %s", key, error)
                    return user_id
        # An admin's link is kept: record_lookup reads back what now holds.
        return stored.record_lookup(
            self.engine, platform=PLATFORM, member_key=key, user_id=found, at=now
        )

    # ---- Slack user → technician ---------------------------------------------------------

    def member_for_user(self, user_id: str) -> str | None:
        """The member key of the technician this Slack user is, or None."""
        key = stored.member_for_chat_user(self.engine, platform=PLATFORM, user_id=user_id)
        if key is not None:
            return key
        email = _casefold(self._email(user_id))
        if email is None:
            return None
        # Nobody, or an ambiguous email, is None: an admin can /deskboard link.
        return stored.match_by_email(
            self.engine,
            platform=PLATFORM,
            user_id=user_id,
            addresses=frozenset({email}),
            clock=self.clock,
        )

    # ---- admins --------------------------------------------------------------------------

    def is_admin(self, user_id: str) -> bool:
        """A workspace admin or owner, or named in ``[slack] admins``."""
        if user_id.casefold() in self.admins:
            return True
        user = self._user(user_id) or {}
        if any(user.get(flag) is True for flag in ("is_admin", "is_owner", "is_primary_owner")):
            return True
        if not self.admins:
            return False
        email = _casefold(self._email(user_id))
        if email is not None and email in self.admins:
            return True
        key = self.member_for_user(user_id)
        return key is not None and key in self.admins

    def display_name(self, user_id: str) -> str | None:
        """The Slack user's real name, for notes written on their behalf."""
        user = self._user(user_id) or {}
        profile = user.get("profile") or {}
        name = profile.get("real_name") or user.get("real_name") or user.get("name")
        return str(name) if name else None

    # ---- helpers -------------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, Any] | None:
        if user_id not in self._users:
            try:
                reply = self.client.users_info(user=user_id)
                self._users[user_id] = dict(reply["user"])
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                log.warning("users.info for %s failed: %s", user_id, error)
                self._users[user_id] = None
        return self._users[user_id]

    def _email(self, user_id: str) -> str | None:
        profile = (self._user(user_id) or {}).get("profile") or {}
        email = profile.get("email")
        return str(email) if email else None

    def _member(self, key: str) -> Member | None:
        return stored.member(self.engine, key)
