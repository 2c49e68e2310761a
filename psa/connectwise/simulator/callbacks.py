"""The simulator's callbacks: ``/system/callbacks`` registrations, the signing key, and the
signed POSTs ConnectWise sends when tickets change.

Tickets change when the clock moves forward (every event in between), through a PATCH and
through ``resolve_ticket_now``. Each change of a ticket becomes one callback per registered
ticket callback, rendered and signed at the moment of the change and sent by one worker
thread in order, so that the clock never waits for a receiver. ``deliveries`` records what
each POST got back.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from psa.connectwise.callbacks import SIGNATURE_HEADER, sign

Json = dict[str, Any]
log = logging.getLogger(__name__)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Delivery:
    url: str
    ticket_id: int
    action: str
    status: int | None  # None: the POST failed (error says why)
    error: str | None = None


class CallbackRegistry:
    """Registered callbacks and the key they are signed with; sends on a worker thread."""

    def __init__(self, *, company: str, signing_key: str | None = None) -> None:
        self.company = company
        self.signing_key = signing_key or secrets.token_urlsafe(24)
        self.key_id = "deskboard-sim-key"
        self.entries: list[Json] = []
        self.deliveries: list[Delivery] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, int, str, bytes] | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    # -- registration --------------------------------------------------------------------
    def register(self, body: Json) -> Json:
        with self._lock:
            entry = {
                "id": self._next_id,
                "url": body["url"],
                "type": body["type"],
                "level": body["level"],
                "objectId": body["objectId"],
                "description": body.get("description") or "",
                "inactiveFlag": False,
            }
            self._next_id += 1
            self.entries.append(entry)
            return entry

    def remove(self, entry_id: int) -> bool:
        with self._lock:
            before = len(self.entries)
            self.entries = [e for e in self.entries if e["id"] != entry_id]
            return len(self.entries) < before

    def ticket_urls(self) -> list[str]:
        with self._lock:
            return [
                e["url"] for e in self.entries if e["type"] == "ticket" and not e["inactiveFlag"]
            ]

    # -- sending -------------------------------------------------------------------------
    def body(self, *, action: str, ticket: Json, key_url: str, from_url: str) -> bytes:
        updated_by = (ticket.get("_info") or {}).get("updatedBy") or ""
        payload = {
            "Action": action,
            "Type": "ticket",
            "ID": ticket["id"],
            "CompanyId": self.company,
            "MemberId": updated_by,
            "FromUrl": from_url,
            "Entity": _ENCODER.encode(ticket),
            "Metadata": {"key_url": key_url},
        }
        return _ENCODER.encode(payload).encode("utf-8")

    def enqueue(self, url: str, ticket_id: int, action: str, body: bytes) -> None:
        self._start()
        self._queue.put((url, ticket_id, action, body))

    def wait_sent(self) -> None:
        """Until every queued callback has been POSTed (or has failed)."""
        self._queue.join()

    def _start(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="simulator-callbacks", daemon=True
                )
                self._worker.start()

    def stop(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(timeout=10.0) as http:
            while True:
                item = self._queue.get()
                try:
                    if item is None:
                        return
                    self._post(http, *item)
                finally:
                    self._queue.task_done()

    def _post(self, http: httpx.Client, url: str, ticket_id: int, action: str, body: bytes) -> None:
        signature = sign(body, self.signing_key)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        try:
            status: int | None = http.post(url, content=body, headers=headers).status_code
            error = None
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
            log.warning("simulator: callback to %s failed: %s", url, error)
        with self._lock:
            self.deliveries.append(Delivery(url, ticket_id, action, status, error))
