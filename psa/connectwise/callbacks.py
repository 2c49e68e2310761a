"""ConnectWise callbacks (push): the payload ConnectWise POSTs, its signature, the signing-key
origin check and the registration records of ``/system/callbacks``; and
``ConnectWisePushVerifier``, ConnectWise's ``psa.port.PushVerifier``, which the composition
root hands to the core's receiver (``bot.core.push``).

ConnectWise signs each callback body: ``x-content-signature`` is
``base64(HMAC-SHA256(key=SHA256(signing key), body))``, and the signing key is fetched from
the URL in the body's ``Metadata.key_url``. That URL comes from an unverified body, so it is
fetched only when it is on the configured ConnectWise site (``same_site``): anything else
would let a stranger make us fetch any URL (SSRF) and sign with a key of their choosing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from psa.connectwise.errors import ConnectWiseError, NotFound
from psa.port import Push, PushRejected

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-content-signature"
ACTIONS = frozenset({"added", "updated", "deleted"})


class KeyFetchLimited(Exception):
    """Too many signing-key requests in the last minute; try again later."""


class MalformedCallback(ValueError):
    """The body is not a ConnectWise callback; the message names what is wrong, never a value."""


@dataclass(frozen=True, slots=True)
class CallbackPayload:
    action: str  # added | updated | deleted
    type: str
    id: int
    key_url: str
    last_updated: datetime | None  # the entity's ``_info.lastUpdated``, when it has one


@dataclass(frozen=True, slots=True)
class CallbackEntry:
    """A registered callback (``/system/callbacks``)."""

    id: int
    url: str
    type: str
    level: str
    object_id: int | None
    description: str
    inactive: bool = False


def sign(body: bytes, signing_key: str) -> str:
    """The ``x-content-signature`` ConnectWise sends with ``body``."""
    key = hashlib.sha256(signing_key.encode("utf-8")).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def signature_matches(body: bytes, signature: str, signing_key: str) -> bool:
    """Constant-time comparison of the decoded signatures; a header that is not base64
    never matches."""
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = base64.b64decode(sign(body, signing_key))
    return hmac.compare_digest(given, expected)


def same_site(url: str, api_url: str) -> bool:
    """Whether ``url`` has the scheme, host and port of the configured API URL."""
    try:
        given, ours = urlsplit(url), urlsplit(api_url)
        given_port, our_port = given.port, ours.port
    except ValueError:
        return False
    if given.scheme.lower() not in ("http", "https") or not given.hostname:
        return False
    if given.username is not None or given.password is not None:
        return False
    default = {"http": 80, "https": 443}
    return (
        given.scheme.lower() == ours.scheme.lower()
        and given.hostname.lower() == (ours.hostname or "").lower()
        and (given_port or default[given.scheme.lower()])
        == (our_port or default.get(ours.scheme.lower()))
    )


def parse_callback(body: bytes) -> CallbackPayload:
    """The parts of a callback body Deskboard uses; raises ``MalformedCallback``."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedCallback("the body is not JSON") from None
    except RecursionError:
        raise MalformedCallback("the body is nested too deeply") from None
    if not isinstance(data, Mapping):
        raise MalformedCallback("the body is not a JSON object")
    action = data.get("Action")
    if not isinstance(action, str) or action.lower() not in ACTIONS:
        raise MalformedCallback("Action is not one of added, updated, deleted")
    kind = data.get("Type")
    if not isinstance(kind, str) or not kind:
        raise MalformedCallback("Type is missing")
    ticket_id = data.get("ID")
    if isinstance(ticket_id, str) and ticket_id.isdigit():
        ticket_id = int(ticket_id)
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, int) or ticket_id <= 0:
        raise MalformedCallback("ID is not a positive integer")
    metadata = data.get("Metadata")
    key_url = metadata.get("key_url") if isinstance(metadata, Mapping) else None
    if not isinstance(key_url, str) or not key_url:
        raise MalformedCallback("Metadata.key_url is missing")
    if any(c.isspace() or not c.isprintable() for c in key_url):
        raise MalformedCallback("Metadata.key_url is not a URL (it holds spaces or controls)")
    return CallbackPayload(
        action=action.lower(),
        type=kind.lower(),
        id=ticket_id,
        key_url=key_url,
        last_updated=_entity_last_updated(data.get("Entity")),
    )


def _entity_last_updated(entity: Any) -> datetime | None:
    """``Entity`` is the record as a JSON string (some senders nest the object itself)."""
    if isinstance(entity, str):
        try:
            entity = json.loads(entity)
        except (ValueError, RecursionError):
            raise MalformedCallback("Entity is not JSON") from None
    if entity is None:
        return None
    if not isinstance(entity, Mapping):
        raise MalformedCallback("Entity is not an object")
    info = entity.get("_info")
    stamp = info.get("lastUpdated") if isinstance(info, Mapping) else None
    if stamp is None:
        return None
    try:
        moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedCallback("Entity._info.lastUpdated is not a time") from None
    if moment.tzinfo is None:
        raise MalformedCallback("Entity._info.lastUpdated has no time zone")
    return moment


def map_callback_entry(raw: Mapping[str, Any]) -> CallbackEntry:
    entry_id = raw.get("id")
    if isinstance(entry_id, bool) or not isinstance(entry_id, int):
        raise ValueError(f"callback without an integer id: {entry_id!r}")
    object_id = raw.get("objectId")
    return CallbackEntry(
        id=entry_id,
        url=str(raw.get("url") or ""),
        type=str(raw.get("type") or ""),
        level=str(raw.get("level") or ""),
        object_id=object_id if isinstance(object_id, int) else None,
        description=str(raw.get("description") or ""),
        inactive=raw.get("inactiveFlag") is True,
    )


def same_callback_url(a: str, b: str) -> bool:
    """URLs equal but for the case of scheme and host and a trailing slash."""
    first, second = urlsplit(a.strip()), urlsplit(b.strip())
    return (
        first.scheme.lower() == second.scheme.lower()
        and first.netloc.lower() == second.netloc.lower()
        and first.path.rstrip("/") == second.path.rstrip("/")
        and first.query == second.query
    )


class SigningKeys:
    """Signing keys by key URL, each kept for ``ttl`` seconds, fetched by ``fetch``.

    ``refresh`` fetches a key again when a signature did not match a cached one (ConnectWise
    may have rotated it), at most once per ``min_refresh`` seconds per URL, and no more than
    ``fetches_per_minute`` keys are fetched in any minute (``KeyFetchLimited`` beyond), so
    that a flood of badly signed requests, each naming another key URL on the ConnectWise
    site, cannot become a flood of requests to ConnectWise.
    """

    def __init__(
        self,
        fetch: Callable[[str], str],
        *,
        ttl: float = 3600.0,
        min_refresh: float = 60.0,
        max_keys: int = 64,
        fetches_per_minute: int = 20,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._max_keys = max_keys
        self._fetches_per_minute = fetches_per_minute
        self._fetched_at: list[float] = []
        self._monotonic = monotonic
        self._keys: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key_url: str) -> str:
        now = self._monotonic()
        with self._lock:
            cached = self._keys.get(key_url)
        if cached is not None and now - cached[1] < self._ttl:
            return cached[0]
        return self._store(key_url, now)

    def refresh(self, key_url: str) -> str | None:
        """A freshly fetched key, or None when the cached one is too recent to ask again."""
        now = self._monotonic()
        with self._lock:
            cached = self._keys.get(key_url)
        if cached is not None and now - cached[1] < self._min_refresh:
            return None
        return self._store(key_url, now)

    def _store(self, key_url: str, now: float) -> str:
        with self._lock:
            self._fetched_at = [at for at in self._fetched_at if now - at < 60.0]
            if len(self._fetched_at) >= self._fetches_per_minute:
                raise KeyFetchLimited("too many signing-key requests in the last minute")
            self._fetched_at.append(now)
        key = self._fetch(key_url)
        with self._lock:
            if len(self._keys) >= self._max_keys and key_url not in self._keys:
                oldest = min(self._keys, key=lambda url: self._keys[url][1])
                del self._keys[oldest]
            self._keys[key_url] = (key, now)
        return key


class SigningKeySource(Protocol):
    """What reads a callback signing key: ``ConnectWiseClient.signing_key``."""

    def signing_key(self, key_url: str) -> str: ...


class ConnectWisePushVerifier:
    """The ``PushVerifier`` of ConnectWise callbacks (``psa.port``), checking in order:

    1. ``x-content-signature`` present (401);
    2. a ConnectWise callback body: JSON with Action, Type, ID and Metadata.key_url (400);
    3. ``Metadata.key_url`` on the configured site, the scheme, host and port of ``api_url``
       (401): nothing else is ever fetched, the body is not trusted yet;
    4. the signature, with the key from that URL (``SigningKeys``: cached, fetched again at
       most once a minute on a mismatch, at most 20 fetches a minute), in constant time
       (401); a key that cannot be fetched answers 503, so that ConnectWise tries again;
    5. for a ticket added or updated, the entity's ``_info.lastUpdated`` (400 without it:
       its freshness cannot be judged).
    """

    def __init__(
        self,
        *,
        api_url: str,
        fetch_key: Callable[[str], str],
        keys: SigningKeys | None = None,
    ) -> None:
        self._api_url = api_url
        self._keys = keys or SigningKeys(fetch_key)

    def verify(self, headers: Mapping[str, str], body: bytes) -> Push:
        signature = headers.get(SIGNATURE_HEADER)
        if not signature:
            raise PushRejected(401, f"no {SIGNATURE_HEADER} header")
        try:
            payload = parse_callback(body)
        except MalformedCallback as exc:
            raise PushRejected(400, f"not a ConnectWise callback: {exc}") from None
        if not same_site(payload.key_url, self._api_url):
            raise PushRejected(401, "the signing key is not on the configured ConnectWise site")
        try:
            verified = self._signed(body, signature, payload.key_url)
        except NotFound:
            raise PushRejected(401, "ConnectWise has no signing key at the given key_url") from None
        except ConnectWiseError as exc:
            log.warning("ConnectWise callback: could not fetch the signing key: %s", exc)
            raise PushRejected(503, "the signing key could not be fetched; try again") from None
        except KeyFetchLimited:
            raise PushRejected(
                503, "too many signing-key requests; try again in a minute"
            ) from None
        if not verified:
            raise PushRejected(401, "the signature does not match")
        push = Push(
            record_id=payload.id,
            action=payload.action,
            kind=payload.type,
            changed_at=payload.last_updated,
        )
        if push.syncs_ticket and push.changed_at is None:
            raise PushRejected(400, "the entity has no _info.lastUpdated: freshness unknown")
        return push

    def _signed(self, body: bytes, signature: str, key_url: str) -> bool:
        if signature_matches(body, signature, self._keys.get(key_url)):
            return True
        fresh = self._keys.refresh(key_url)  # rotated? ask again, at most once a minute
        return fresh is not None and signature_matches(body, signature, fresh)


def push_verifier(
    *, api_url: str, clients: Callable[[], AbstractContextManager[SigningKeySource]]
) -> ConnectWisePushVerifier:
    """The verifier of callbacks to the site at ``api_url``, reading signing keys through a
    client from ``clients``."""

    def fetch_key(key_url: str) -> str:
        with clients() as client:
            return client.signing_key(key_url)

    return ConnectWisePushVerifier(api_url=api_url, fetch_key=fetch_key)
