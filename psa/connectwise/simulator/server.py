"""``SimulatorServer``: the simulated ConnectWise on a real HTTP socket (127.0.0.1, a free
port, a daemon thread), for the demo, the tests and the benchmarks.

    with SimulatorServer(generate_msp(start=..., end=...)) as cw:
        httpx.get(f"{cw.url}/service/tickets", headers=cw.headers)
        cw.clock += timedelta(hours=1)      # tickets move on: statuses, resolutions, reopens

Callbacks registered through ``POST /system/callbacks`` are sent, signed, for every ticket
that changes: when the clock moves forward, on a PATCH and on ``resolve_ticket_now``
(see ``psa.connectwise.simulator.callbacks``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from psa.connectwise.client import ConnectWiseClient, build_http_client
from psa.connectwise.simulator.api import (
    Api,
    ApiReply,
    ApiRequest,
    basic_credentials,
    error_reply,
    json_reply,
)
from psa.connectwise.simulator.callbacks import CallbackRegistry, Delivery
from psa.connectwise.simulator.faults import Fault, FaultPlan
from psa.connectwise.simulator.model import SimulatedMSP, from_epoch, to_epoch
from psa.connectwise.simulator.state import SimulationState

MAX_RECORDED_REQUESTS = 10_000
log = logging.getLogger(__name__)


class ServedRequest(NamedTuple):
    method: str
    path: str  # relative to the API base when under it, e.g. "/service/tickets"
    query: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: don't wait 40 ms
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and benchmarks read ``SimulatorServer.requests`` instead."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        owner = self.server.owner
        fault = owner.faults.take(self.command, owner.relative_path(self.path))
        if fault is not None:
            if fault.action is not None:
                fault.action()
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.close_connection = True
                return
        reply = owner.dispatch(self.command, self.path, self.headers.items(), body)
        content_type = "application/json; charset=utf-8"
        if fault is not None and fault.truncate:
            reply = ApiReply(reply.status, reply.body[: len(reply.body) // 2], reply.headers)
        elif fault is not None:
            headers = [] if fault.retry_after is None else [("Retry-After", str(fault.retry_after))]
            reply = ApiReply(fault.status, fault.error_body(), headers)
            content_type = fault.content_type
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout fault)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: SimulatorServer


class SimulatorServer:
    """A fake ConnectWise serving ``msp`` as of ``clock`` (default: the end of its history)."""

    def __init__(
        self,
        msp: SimulatedMSP,
        *,
        company: str = "deskboard_demo",
        public_key: str = "demo-public",
        private_key: str = "demo-private",
        client_id: str = "00000000-0000-4000-8000-000000000000",
        clock: datetime | None = None,
        codebase: str = "v4_6_release",
        link_headers: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.msp = msp
        self.company = company
        self.public_key = public_key
        self.private_key = private_key
        self.client_id = client_id
        self.codebase = codebase.strip("/")
        self.base_path = f"/{self.codebase}/apis/3.0"
        self.requests: list[ServedRequest] = []
        self.faults = FaultPlan()
        self._address = (host, port)
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self.state = SimulationState(msp, clock=clock or msp.end)
        self.callbacks = CallbackRegistry(company=company)
        self.api = Api(
            self.state,
            authorization=basic_credentials(company, public_key, private_key),
            client_id=client_id,
            link_headers=link_headers,
            callbacks=self.callbacks,
            on_ticket_change=self._ticket_changed,
        )

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> SimulatorServer:
        if self._http is not None:
            return self
        self._http = _HttpServer(self._address, _Handler)
        self._http.owner = self
        host, port = self._http.server_address[:2]
        self.state.base_url = f"http://{host!s}:{port}{self.base_path}"
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},  # a quick stop() matters to the test suite
            name="connectwise-simulator",
            daemon=True,
        )
        self._thread.start()
        # Incremental syncs (``lastUpdated > [T]``) read an index of event times: build it
        # now, in the background, rather than on the first such request.
        threading.Thread(
            target=self.state.build_event_index, name="simulator-index", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.callbacks.stop()
        if self._http is None:
            return
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http, self._thread = None, None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need ---------------------------------------------------------------
    @property
    def url(self) -> str:
        """The API base, e.g. ``http://127.0.0.1:51234/v4_6_release/apis/3.0``."""
        if self._http is None:
            raise RuntimeError("the simulator is not started")
        return self.state.base_url

    @property
    def root_url(self) -> str:
        """Scheme, host and port: where ``/login/companyinfo/{company}`` answers."""
        return self.url.removesuffix(self.base_path)

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` and ``clientId`` headers this server accepts."""
        authorization = basic_credentials(self.company, self.public_key, self.private_key)
        return {"Authorization": authorization, "clientId": self.client_id}

    @contextmanager
    def connectwise_client(self) -> Iterator[ConnectWiseClient]:
        """Deskboard's ConnectWise client, built as ``deskboard`` builds it, logged in here."""
        http = build_http_client(
            api_url=self.url,
            company=self.company,
            public_key=self.public_key,
            private_key=self.private_key,
            client_id=self.client_id,
        )
        with http:
            yield ConnectWiseClient(http)

    @property
    def clock(self) -> datetime:
        return from_epoch(self.state.clock)

    @clock.setter
    def clock(self, moment: datetime) -> None:
        before = self.state.clock
        self.state.set_clock(moment)
        if self.callbacks.ticket_urls():
            since = before
            for position in self.state.changed_between(since, to_epoch(moment)):
                added = self.state.entered[position] > since
                self._send_callbacks(position, "added" if added else "updated")

    @property
    def signing_key(self) -> str:
        """The key callbacks are signed with (served at ``callback_key_url``)."""
        return self.callbacks.signing_key

    @property
    def callback_key_url(self) -> str:
        return f"{self.url}/system/callbackkeys/{self.callbacks.key_id}"

    @property
    def callback_deliveries(self) -> list[Delivery]:
        """Every callback POSTed so far and what its receiver answered."""
        return list(self.callbacks.deliveries)

    def wait_callbacks_sent(self) -> None:
        """Until every callback queued so far has been POSTed (or failed)."""
        self.callbacks.wait_sent()

    @property
    def link_headers(self) -> bool:
        return self.api.link_headers

    @link_headers.setter
    def link_headers(self, enabled: bool) -> None:
        self.api.link_headers = enabled

    @property
    def posted_notes(self) -> list[dict[str, Any]]:
        """Every note POSTed: ``{"ticket_id", "body" (as sent), "note" (as stored)}``."""
        return self.state.posted_notes

    # -- steering ------------------------------------------------------------------------
    def resolve_ticket_now(self, ticket_id: int, *, by: str) -> None:
        """Resolve a visible ticket at the clock, as member ``by`` (identifier)."""
        self.state.resolve_now(ticket_id, by=by)
        self._ticket_changed(ticket_id)

    def fail_next(self, status: int, *, count: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``count`` API requests with ``status`` (429, 500, 503...) and an
        error body, plus ``Retry-After`` when given."""
        self.api.failures.extend([(status, retry_after)] * count)

    def inject(self, *faults: Fault) -> None:
        """Answer matching requests with ``faults`` (``psa.connectwise.simulator.faults``) until
        they are
        used up or ``clear_faults`` is called."""
        self.faults.add(*faults)

    def clear_faults(self) -> None:
        self.faults.clear()

    def relative_path(self, target: str) -> str:
        """A request target's path below the API base (as ``ServedRequest.path``)."""
        path = urlsplit(target).path
        return (path[len(self.base_path) :] or "/") if path.startswith(self.base_path) else path

    def clear_requests(self) -> None:
        self.requests.clear()

    # -- callbacks -----------------------------------------------------------------------
    def _ticket_changed(self, ticket_id: int) -> None:
        position = self.state.position(ticket_id)
        if position is not None and self.callbacks.ticket_urls():
            self._send_callbacks(position, "updated")

    def _send_callbacks(self, position: int, action: str) -> None:
        try:
            ticket = self.state.render(position)
        except LookupError:  # the clock moved back meanwhile
            return
        body = self.callbacks.body(
            action=action, ticket=ticket, key_url=self.callback_key_url, from_url=self.root_url
        )
        for url in self.callbacks.ticket_urls():
            self.callbacks.enqueue(url, ticket["id"], action, body)

    # -- serving -------------------------------------------------------------------------
    def dispatch(
        self, method: str, target: str, headers: Iterator[tuple[str, str]] | Any, body: bytes
    ) -> ApiReply:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path
        relative = path[len(self.base_path) :] if path.startswith(self.base_path) else path
        self.requests.append(ServedRequest(method, relative or "/", query))
        if len(self.requests) > MAX_RECORDED_REQUESTS:
            del self.requests[: MAX_RECORDED_REQUESTS // 2]
        if path.startswith("/login/companyinfo/") and method == "GET":
            return json_reply(200, self._company_info(path.rsplit("/", 1)[-1]))
        if not path.startswith(self.base_path + "/"):
            return error_reply(404, "NotFound", f"No route for {path}")
        lowered = {name.lower(): value for name, value in headers}
        request = ApiRequest(method, relative, query, lowered, body)
        try:
            return self.api.handle(request)
        except Exception as exc:  # a simulator bug: answer like ConnectWise, keep serving
            log.exception("simulator failed on %s %s", method, target)
            return error_reply(500, "InternalServerError", f"{type(exc).__name__}: {exc}")

    def _company_info(self, company: str) -> dict[str, Any]:
        return {
            "CompanyName": self.company,
            "Codebase": f"{self.codebase}/",
            "VersionCode": "v2025.1",
            "VersionNumber": "v4.6.10431",
            "CompanyID": company,
            "IsCloud": False,
            "SiteUrl": self.root_url.removeprefix("http://"),
        }
