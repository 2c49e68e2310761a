"""The personal links of ``/mystats`` (``/me/<token>``, ``bot.core.personal_page``): a token
``base64(member|expiry).base64(HMAC-SHA256)`` that expires after ``LINK_DAYS``, signed with a
random key made once and kept in the database (``storage.boards.link_key``), so every process
checks the links any process made, and nothing new is needed in the environment."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from storage import boards as store
from storage.db import session_scope

LINK_DAYS = 7
SIGNATURE_BYTES = 16


class PageRefused(Exception):
    """A personal link that cannot open a page: ``status`` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(engine: Engine, now: datetime) -> bytes:
    with session_scope(engine) as session:
        return bytes.fromhex(store.link_key(session, new_key=secrets.token_hex(32), now=now))


def personal_token(engine: Engine, *, member: str, now: datetime) -> str:
    """The token of ``member``'s page, valid for ``LINK_DAYS``."""
    expiry = int((now + timedelta(days=LINK_DAYS)).timestamp())
    payload = f"{member}|{expiry}".encode()
    signature = hmac.new(_key(engine, now), payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return f"{_b64(payload)}.{_b64(signature)}"


def member_of(engine: Engine, token: str, *, now: datetime) -> str:
    """Whose page ``token`` opens; ``PageRefused`` (404 not a link, 410 expired)."""
    try:
        payload_text, signature_text = token.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
        member, expiry_text = payload.decode().rsplit("|", 1)
        expiry = datetime.fromtimestamp(int(expiry_text), UTC)
    except (ValueError, UnicodeDecodeError):
        raise PageRefused(404, "This link is not complete.") from None
    wanted = hmac.new(_key(engine, now), payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    if not hmac.compare_digest(wanted, signature):
        raise PageRefused(404, "This link is not complete.")
    if now >= expiry:
        raise PageRefused(410, "This link has expired: /mystats gives you a new one.")
    return member
