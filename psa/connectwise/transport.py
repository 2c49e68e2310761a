"""Talking HTTP to ConnectWise: the configured ``httpx.Client``, retries and paging.

A caller sends one request at a time, except the note sync, which reads notes with a few
threads (``[connectwise] max_concurrency``). ConnectWise publishes no rate; it answers 429
with ``Retry-After``, and then every thread of the client holds back until that time, not
only the one that was told: the others would be refused too. Lists come as generators of
pages, so a caller never holds more than one page. Transient failures (429, 5xx, timeouts,
dropped connections, a 2xx whose body is not JSON) are retried with capped exponential
backoff and full jitter; a POST is retried only when it surely never reached ConnectWise,
because a second note is worse than a failed one.
Nothing here logs or formats request headers, so the credentials never reach a log line.
"""

from __future__ import annotations

import ctypes
import json
import logging
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from psa.connectwise.errors import (
    ConnectWiseError,
    RetriesExhausted,
    api_path,
    body_excerpt,
    error_from_response,
)

log = logging.getLogger(__name__)

ACCEPT_TEMPLATE = "application/vnd.connectwise.com+json; version={version}"
_FORWARD_ONLY = {"pagination-type": "forward-only"}
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Failures where the request never left this machine: safe to retry even for a POST.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
_MMAP_THRESHOLD = 128 * 1024  # glibc's default, pinned
_threshold_pinned = False


def pin_mmap_threshold() -> None:
    """Have glibc hand every allocation of 128 KiB or more straight back to the OS when freed.

    A page of 1,000 tickets arrives as a body of a few MB, decoded into a string of the same
    size. glibc serves the first such buffer from ``mmap``, and on freeing it raises its
    threshold to that size (``M_MMAP_THRESHOLD`` is dynamic by default), so every later page
    body comes from the main heap instead, between smaller objects that outlive it: the heap
    fragments and the process keeps growing over a long sync (a 200,000-ticket sync grew by
    about 95 MB, against 50 MB for 20,000). Pinning the threshold at its default turns the
    adjustment off: those buffers are mapped and unmapped per page, which costs a few page
    faults per page and keeps the peak flat. Process-wide, so done once, on Linux only; a
    C library without ``mallopt`` is left alone.
    """
    global _threshold_pinned
    if _threshold_pinned or not sys.platform.startswith("linux"):
        return
    _threshold_pinned = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


def build_http_client(
    *,
    api_url: str,
    company: str,
    public_key: str,
    private_key: str,
    client_id: str,
    api_version: str = "2022.1",
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` for ``api_url`` (``https://host/v4_6_release/apis/3.0``).

    Authenticates with Basic ``company+public:private``, sends the integration's ``clientId``
    and pins the API version in ``Accept``. Redirects are not followed, so the Authorization
    header is only ever sent to ``api_url``'s host. Building one also pins the C library's
    mmap threshold (``pin_mmap_threshold``), so that a long sync does not grow the process.
    """
    base = api_url.strip().rstrip("/")
    url = httpx.URL(base)
    if url.scheme not in ("http", "https") or not url.host or not url.path.endswith("/apis/3.0"):
        raise ValueError(
            "api_url must be the REST root ending in /apis/3.0, e.g. "
            f"https://api-na.myconnectwise.net/v4_6_release/apis/3.0 (got {base!r})"
        )
    pin_mmap_threshold()
    for name, value in (
        ("company", company),
        ("public_key", public_key),
        ("private_key", private_key),
        ("client_id", client_id),
    ):
        if not value.strip():
            raise ValueError(f"ConnectWise {name} is empty")
    return httpx.Client(
        base_url=base,
        auth=httpx.BasicAuth(f"{company}+{public_key}", private_key),
        headers={"clientId": client_id, "Accept": ACCEPT_TEMPLATE.format(version=api_version)},
        timeout=timeout,
        transport=transport,
        follow_redirects=False,
    )


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    base_delay: float = 0.5  # seconds; doubled per attempt, then full jitter
    max_delay: float = 30.0  # cap of one backoff sleep
    max_retry_after: float = 120.0  # cap of one sleep asked for by Retry-After


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class Reply:
    response: httpx.Response
    data: Any


def _next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, whatever its case or position."""
    for link in response.links.values():
        rels = str(link.get("rel", "")).lower().split()
        if "next" in rels and link.get("url"):
            return str(response.url.join(link["url"]))
    return None


def _first_id(items: list[Any]) -> object:
    first = items[0]
    return first.get("id") if isinstance(first, Mapping) else first


class Requester:
    """Sends one ConnectWise request at a time, retrying what is worth retrying, and pages."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 1000,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000 (ConnectWise's maximum)")
        if retry.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        self._http = http
        self._retry = retry
        self._sleep = sleep
        self._page_size = page_size
        self._rng = rng or random.Random()
        self._clock = time.monotonic
        self._hold_lock = threading.Lock()
        self._hold_until = 0.0  # on the monotonic clock: no request before then (a 429)
        self._held = threading.local()  # .until: the hold this thread has already waited out

    def iter_pages(self, path: str, params: Mapping[str, str]) -> Iterator[list[Any]]:
        """Every item of a list route, one page at a time.

        Asks for forward-only paging and follows ``Link: <…>; rel="next"`` as given (it
        carries ``pageId``) while there is one. A server that sends no ``Link`` header at all
        gets page numbers instead (``page=2``, …), ending on a short or empty page.
        """
        query: dict[str, str | int] = {**params, "pageSize": self._page_size}
        reply = self.send("GET", path, params=query, headers=_FORWARD_ONLY)
        page_number = 1
        following_links = False
        previous_first: object = None
        while True:
            items = expect_list(reply.data, path)
            if not items:
                return
            if page_number > 1 and _first_id(items) == previous_first:
                raise ConnectWiseError(f"ConnectWise paging of {path} did not advance")
            previous_first = _first_id(items)
            yield items
            page_number += 1
            next_url = _next_link(reply.response)
            if next_url is not None:
                following_links = True
                reply = self.send("GET", self._same_origin(next_url), headers=_FORWARD_ONLY)
            elif following_links or "link" in reply.response.headers:
                return  # the server pages by links and named no next page
            elif len(items) < self._page_size:
                return
            else:
                reply = self.send("GET", path, params={**query, "page": page_number})

    def _same_origin(self, url: str) -> httpx.URL:
        """The next-page URL on our own host: credentials never go to a host named in a reply."""
        return self._http.base_url.copy_with(raw_path=httpx.URL(url).raw_path)

    def send(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        path = api_path(url) if isinstance(url, httpx.URL) else url
        idempotent = method != "POST"
        attempts = self._retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                response, body = self._exchange(
                    method, url, params=params, json_body=json_body, headers=headers
                )
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {str(exc) or 'no detail'}"
                safe = idempotent or isinstance(exc, _NEVER_SENT)
                if isinstance(exc, httpx.UnsupportedProtocol) or not safe:
                    why = "" if safe else " (not retried: the POST may have reached ConnectWise)"
                    raise ConnectWiseError(
                        f"ConnectWise {method} {path} failed: {problem}{why}",
                        method=method,
                        path=path,
                    ) from exc
                status = None
                delay = self._backoff(attempt)
            else:
                status = response.status_code
                if response.is_success:
                    try:
                        return Reply(response, _json_body(response, body))
                    except ValueError as exc:
                        problem = f"HTTP {status} with a body that is not JSON: {exc}"
                        if not idempotent:
                            raise ConnectWiseError(
                                f"ConnectWise {method} {path}: {problem}; not retried because "
                                "the POST may have been carried out",
                                status=status,
                                method=method,
                                path=path,
                            ) from exc
                    delay = self._backoff(attempt)
                elif status == 429 or (status in _RETRY_STATUSES and idempotent):
                    failure = error_from_response(response)
                    problem = f"HTTP {status}: ConnectWise said: {failure.cw_message or 'nothing'}"
                    retry_after = self._retry_after(response) if status == 429 else None
                    delay = retry_after if retry_after is not None else self._backoff(attempt)
                    if status == 429:
                        self._hold_everyone(delay)  # this thread sleeps it below
                else:
                    raise error_from_response(response)
            if attempt == attempts:
                raise RetriesExhausted(
                    f"ConnectWise {method} {path} failed {attempts} times; last: {problem}",
                    status=status,
                    method=method,
                    path=path,
                )
            log.warning(
                "ConnectWise %s %s: %s; retry %d of %d in %.2fs",
                method,
                path,
                problem,
                attempt,
                attempts - 1,
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def _hold_everyone(self, delay: float) -> None:
        """No other thread of this client sends before ``delay`` seconds from now; the thread
        that was told sleeps the delay itself, as for any retry."""
        with self._hold_lock:
            self._hold_until = max(self._hold_until, self._clock() + delay)
            self._held.until = self._hold_until

    def _wait_for_hold(self) -> None:
        with self._hold_lock:
            if self._hold_until <= getattr(self._held, "until", 0.0):
                return  # this thread was told, and slept it
            wait = self._hold_until - self._clock()
            self._held.until = self._hold_until
        if wait > 0:
            log.info("ConnectWise asked to slow down: waiting %.2fs", wait)
            self._sleep(wait)

    def _exchange(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str | int] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> tuple[httpx.Response, bytes]:
        """Send one request; the response (closed) and its body, read into a bytes of our own.

        A successful body is not left in ``response.content``: an ``httpx.Response`` is in a
        reference cycle with its stream, so whatever it holds lives until the cyclic garbage
        collector runs, and in a process with a large heap that can be hundreds of pages later
        (a 200,000-ticket sync then held every page's body at once). Our ``bytes`` is freed as
        soon as the page is parsed. Error bodies are read into the response as usual, since
        ``psa.connectwise.errors`` reads them from there.
        """
        self._wait_for_hold()
        request = self._http.build_request(
            method, url, params=params, json=json_body, headers=headers
        )
        response = self._http.send(request, stream=True)
        try:
            if not response.is_success:
                return response, response.read()
            return response, b"".join(response.iter_bytes())
        finally:
            response.close()

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**(attempt-1))]."""
        cap = min(self._retry.max_delay, self._retry.base_delay * 2 ** (attempt - 1))
        return self._rng.uniform(0.0, cap)

    def _retry_after(self, response: httpx.Response) -> float | None:
        """``Retry-After`` seconds, clamped to [0, max_retry_after]; None if absent or odd."""
        value = response.headers.get("retry-after")
        try:
            seconds = float(value) if value is not None else None
        except ValueError:
            return None
        if seconds is None or seconds != seconds:  # absent or NaN
            return None
        return min(max(seconds, 0.0), self._retry.max_retry_after)


def _json_body(response: httpx.Response, body: bytes) -> Any:
    """The parsed body; ValueError naming the content type and an excerpt when it is not JSON."""
    if response.status_code == 204:
        return None
    try:
        return json.loads(body)
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        text = body.decode(response.charset_encoding or "utf-8", errors="replace")
        raise ValueError(f"{kind}, {body_excerpt(text) or 'empty'!r}") from None


def expect_list(data: Any, path: str) -> list[Any]:
    if not isinstance(data, list):
        raise ConnectWiseError(f"ConnectWise {path} returned {type(data).__name__}, not a list")
    return data


def expect_object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConnectWiseError(f"ConnectWise returned {type(data).__name__} for {what}")
    return data
