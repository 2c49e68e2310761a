"""The real HTTP app served for a case, and for the browser tests (``tests/browser.py``):
uvicorn on 127.0.0.1 (a free port) in a thread."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _FirstTraceback(logging.Filter):
    """Lets the first error with a traceback through and counts the others: a case that
    makes the app fail hundreds of times reports the failures itself."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is None:
            return True
        self.seen += 1
        return self.seen == 1


@contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread; yields its base URL. uvicorn's
    defaults otherwise, as ``bot.service`` runs it (so ``X-Forwarded-For`` from 127.0.0.1 is
    trusted, as from a reverse proxy on the same host)."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    errors = logging.getLogger("uvicorn.error")
    quiet = _FirstTraceback()
    errors.addFilter(quiet)
    thread = threading.Thread(target=server.run, name="uvicorn-bench", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        errors.removeFilter(quiet)
        if quiet.seen > 1:
            errors.warning("… and %d more errors like it in this case", quiet.seen - 1)
