"""Faults the simulator can be told to answer with, for the fault-injection tests.

A ``Fault`` matches requests by method and path (below the API base; None matches any),
lets the first ``skip`` matching requests through (``skip=1`` on ``/service/tickets``: a
page that fails midway through paging), then answers the next ``times`` ones itself:

- ``status`` with a JSON error body, or ``body`` as given (an HTML error page) under
  ``content_type``; ``Retry-After`` when ``retry_after`` is set (a 429 storm);
- ``truncate``: the real answer, cut in half (truncated JSON with a 200);
- ``delay``: seconds to wait first (beyond the client's timeout: a timeout);
- ``drop``: the connection is closed without an answer (a reset);
- ``action``: called first (the crash test kills the process under test from here).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Fault:
    method: str | None = "GET"
    path: str | None = None
    skip: int = 0
    times: int = 1
    status: int = 500
    body: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    retry_after: int | None = None
    truncate: bool = False
    delay: float = 0.0
    drop: bool = False
    action: Callable[[], None] | None = None
    hits: int = field(default=0, init=False)  # requests it answered

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path == path
        )

    def error_body(self) -> bytes:
        if self.body is not None:
            return self.body
        message = {"code": "SimulatedFault", "message": f"Simulated failure {self.status}."}
        return json.dumps(message).encode()


class FaultPlan:
    """The faults in force, in order; the first matching one that has answers left wins."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._seen: dict[int, int] = {}
        self._lock = threading.Lock()

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._seen.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The fault that answers this request, if any (counted as used)."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path) or fault.hits >= fault.times:
                    continue
                seen = self._seen.get(id(fault), 0)
                self._seen[id(fault)] = seen + 1
                if seen < fault.skip:
                    return None
                fault.hits += 1
                return fault
        return None
