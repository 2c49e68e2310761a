"""``WorkflowMessenger``: post-only Teams delivery through a Workflows webhook.

For teams that cannot install a bot: a Workflows flow "When a Teams webhook request is
received" posts each card it receives in one channel (``[teams] workflow_url``). Such a URL
can only post: no buttons that call back (Actions blocks are left out of the card), no DMs
(``dm`` returns None), no updates (``update`` refuses). A request may carry about 28 KB, so
cards are cut to ``WORKFLOW_LIMIT`` and a chart is shrunk into the room the text leaves.

The URL carries a signature (``sig=...``) that lets anyone post: it is never logged nor put in
an error message; only its host is. httpx's own request log line (INFO) would show it, so a
filter on the ``httpx`` logger redacts it there.

Errors: 400 and 413 mean this payload will never be accepted (``DeliveryRefused``); 429, 412,
5xx, other statuses and network failures raise ``WorkflowUnavailable`` so that the outbox
retries later with backoff.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.chat.chart import compact_png
from bot.chat.message import Actions, Message
from bot.chat.messenger import DeliveryRefused
from bot.core.platforms import TEAMS_WORKFLOW
from bot.teams.cards import (
    WORKFLOW_LIMIT,
    CardTooLarge,
    card_size,
    encode_card,
    to_adaptive_card,
    workflow_payload,
)

log = logging.getLogger(__name__)

REFUSED_STATUSES = frozenset({400, 413})
CHART_BUDGET = 16_000  # bytes of PNG at most (about 21,300 once base64-encoded in the card)
MIN_CHART = 2_000  # less room than this: post without the chart
IMAGE_ELEMENT = 500  # bytes of JSON an Image element takes besides its data URL (alt text ≤ 300)
TIMEOUT_SECONDS = 30.0


class WorkflowUnavailable(Exception):
    """The webhook did not take the card this time (throttled, down, unreachable)."""


class _HideSecrets(logging.Filter):
    """httpx logs every request with its full URL ("HTTP Request: POST https://...&sig=...")
    at INFO: this filter on the ``httpx`` logger replaces the webhook URLs' secret parts."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[str, str] = {}  # secret → what shows instead

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = message
        for secret in sorted(self.secrets, key=len, reverse=True):
            hidden = hidden.replace(secret, self.secrets[secret])
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


_HIDE_SECRETS = _HideSecrets()


def _hide_in_http_logs(url: str) -> None:
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}/[redacted]"
    secrets = {url: shown, str(httpx.URL(url)): shown}
    if len(parts.query) >= 8:
        secrets[parts.query] = "[redacted]"
    _HIDE_SECRETS.secrets.update(secrets)
    httpx_log = logging.getLogger("httpx")
    if _HIDE_SECRETS not in httpx_log.filters:
        httpx_log.addFilter(_HIDE_SECRETS)


class WorkflowMessenger:
    platform = TEAMS_WORKFLOW

    def __init__(self, url: str, *, http: httpx.Client | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("the Teams workflow URL must be an http(s) URL")
        self._url = url
        self.host = parts.hostname
        _hide_in_http_logs(url)
        self._http = http or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        self._own_http = http is None

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def card(self, message: Message, attachment: bytes | None = None) -> dict[str, Any]:
        """The card ``post`` sends: no controls, the chart shrunk to the room left."""
        posted = replace(
            message, blocks=tuple(b for b in message.blocks if not isinstance(b, Actions))
        )
        text_only = to_adaptive_card(posted, limit=WORKFLOW_LIMIT)
        if not attachment:
            return text_only
        room = (WORKFLOW_LIMIT - card_size(text_only) - IMAGE_ELEMENT) * 3 // 4  # base64
        budget = min(CHART_BUDGET, room)
        chart = compact_png(attachment, budget=budget) if budget >= MIN_CHART else None
        if chart is None:
            log.info("chart left out of the Teams workflow post: no room for it")
            return text_only
        return to_adaptive_card(posted, limit=WORKFLOW_LIMIT, image=chart)

    def post(
        self,
        channel: str,
        message: Message,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
        *,
        key: str | None = None,
    ) -> str:
        """Post ``message`` to the webhook's channel (``channel`` is only a label: the
        workflow decides where its cards go)."""
        try:
            card = self.card(message, attachment)
        except CardTooLarge as exc:
            raise DeliveryRefused(f"Teams workflow at {self.host}: {exc}") from exc
        body = encode_card(workflow_payload(card))
        try:
            response = self._http.post(
                self._url, content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            # from None: httpx errors can carry the request, and so the signed URL.
            raise WorkflowUnavailable(
                f"Teams workflow at {self.host} unreachable: {type(exc).__name__}"
            ) from None
        status = response.status_code
        if status in REFUSED_STATUSES:
            raise DeliveryRefused(
                f"Teams workflow at {self.host} refused the card ({status}, {len(body)} bytes)"
            )
        if not 200 <= status < 300:
            wait = response.headers.get("Retry-After", "")[:20]
            raise WorkflowUnavailable(
                f"Teams workflow at {self.host} answered {status}"
                + (f" (retry after {wait} s)" if wait else "")
            )
        log.info("posted a card to the Teams workflow at %s (%d bytes)", self.host, len(body))
        return f"{TEAMS_WORKFLOW}:{self.host}:{uuid.uuid4().hex[:16]}"

    def dm(
        self, member_key: str, message: Message, *, key: str | None = None, safety: bool = False
    ) -> str | None:
        """A webhook cannot reach a person: nobody gets a DM this way."""
        return None

    def find_delivered(self, *, kind: str, target: str, key: str, since: datetime) -> str | None:
        """A webhook cannot be read back: a card whose send was cut off is sent again."""
        return None

    def update(self, ref: str, message: Message) -> None:
        raise DeliveryRefused("a Teams workflow webhook cannot update a posted card")

    def reply(self, ref: str, message: Message, *, key: str | None = None) -> str:
        raise DeliveryRefused("a Teams workflow webhook cannot reply under a posted card")
