"""The one small HTTP server helper every fake shares: a ``ThreadingHTTPServer`` on
127.0.0.1:0 (a free port) serving a handler class in a daemon thread.

::

    class Handler(QuietHandler):
        def do_GET(self) -> None: ...

    with Loopback(Handler) as server:   # or server = Loopback(Handler).start() … server.stop()
        httpx.get(server.url + "/path")

The port is bound when the ``Loopback`` is made (``url`` and ``port`` are known before it
serves); ``start`` serves, ``stop`` shuts the server down (if it served) and closes its socket,
once. Handler threads are daemons, so a stuck client never holds a test up.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and can read its request's body."""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output quiet

    def body(self) -> bytes:
        """The request's body, as long as its Content-Length says (empty without one)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


class Loopback:
    """``handler`` served on 127.0.0.1 at a free port, in a daemon thread."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], *, poll_interval: float = 0.05
    ) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )
        self._stopped = False

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, no trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Loopback:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Loopback:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
