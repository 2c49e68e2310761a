"""ConnectWise errors that tell the operator what went wrong and what to change.

Every message carries ConnectWise's own ``message`` text (or a short excerpt of a body that
was not JSON) and, where the fix is on the operator's side, the advice: which environment
variables hold the keys (401), which security-role module to grant (403), which condition
was rejected (400). Nothing here ever reads request headers, so neither the Authorization
header nor the keys can end up in a message or a log line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from psa.port import PsaError, RecordNotFound

API_ROOT = "/apis/3.0"
_EXCERPT_CHARS = 200


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of ConnectWise's ``errors`` list: which field of which resource, and why."""

    code: str | None = None
    message: str | None = None
    resource: str | None = None
    field: str | None = None

    def describe(self) -> str:
        where = "/".join(part for part in (self.resource, self.field) if part) or "?"
        code = f" ({self.code})" if self.code else ""
        return f"{where}: {self.message or 'no message'}{code}"


@dataclass(frozen=True, slots=True)
class SecurityRolePermission:
    """A row of a ConnectWise security role (System > Security Roles) the API member needs."""

    module: str
    level: str
    used_for: str


# The API member's security role, derived from the routes the client calls. "All" is the
# scope to pick for each level. Table Setup can be customized; it needs Service / Service Board.
REQUIRED_PERMISSIONS: tuple[SecurityRolePermission, ...] = (
    SecurityRolePermission(
        "Service Desk > Service Tickets", "Inquire", "reading tickets, counts and notes"
    ),
    SecurityRolePermission(
        "Service Desk > Service Tickets", "Edit", "re-categorizing a ticket (PATCH)"
    ),
    SecurityRolePermission(
        "Service Desk > Service Tickets", "Add", "adding an internal note to a ticket"
    ),
    SecurityRolePermission(
        "System > Table Setup (Service / Service Board)",
        "Inquire",
        "boards, statuses, types, subtypes, items and their associations",
    ),
    SecurityRolePermission("System > Member Maintenance", "Inquire", "technicians (members)"),
    SecurityRolePermission("Companies > Company Maintenance", "Inquire", "companies"),
    SecurityRolePermission("Finance > Agreements", "Inquire", "agreements of a company"),
)

# Path below /apis/3.0 → the security-role module that guards it; first match wins.
_MODULE_BY_PATH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/service/tickets(/|$)"), "Service Desk > Service Tickets"),
    (re.compile(r"^/service/boards(/|$)"), "System > Table Setup (Service / Service Board)"),
    (re.compile(r"^/system/members(/|$)"), "System > Member Maintenance"),
    (re.compile(r"^/company/companies(/|$)"), "Companies > Company Maintenance"),
    (re.compile(r"^/finance/agreements(/|$)"), "Finance > Agreements"),
    (re.compile(r"^/time/entries(/|$)"), "Time & Expense > Time Entry"),
)
_LEVEL_BY_METHOD = {"GET": "Inquire", "POST": "Add", "PATCH": "Edit", "PUT": "Edit"}


class ConnectWiseError(PsaError):
    """A ConnectWise call failed. ``cw_message`` is ConnectWise's own text, when it sent one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        cw_message: str | None = None,
        errors: Sequence[FieldError] = (),
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.cw_message = cw_message
        self.errors = list(errors)
        self.method = method
        self.path = path


class AuthenticationFailed(ConnectWiseError):
    """401: the company + public key : private key pair was not accepted."""


class PermissionDenied(ConnectWiseError):
    """403: the API member's security role does not allow this call."""


class BadRequest(ConnectWiseError):
    """400: ConnectWise rejected the request (bad conditions, invalid object, …)."""


class NotFound(ConnectWiseError, RecordNotFound):
    """404: the record (or route) does not exist."""


class RetriesExhausted(ConnectWiseError):
    """The last retry failed too; the message says what failed last."""


def api_path(url: httpx.URL) -> str:
    """The path below ``/apis/3.0`` (``/service/tickets``), or the whole path if not found."""
    path = url.path
    index = path.find(API_ROOT)
    if index < 0:
        return path
    return "/" + path[index + len(API_ROOT) :].lstrip("/")


def required_module(path: str) -> str | None:
    """The security-role module that guards ``path`` (a path below /apis/3.0)."""
    for pattern, module in _MODULE_BY_PATH:
        if pattern.search(path):
            return module
    return None


def body_excerpt(text: str) -> str:
    """A short single-line excerpt of a body that is not ConnectWise JSON (HTML tags removed)."""
    plain = re.sub(r"<[^>]*>", " ", text)
    plain = " ".join(plain.split())
    if len(plain) > _EXCERPT_CHARS:
        return plain[:_EXCERPT_CHARS] + "…"
    return plain


def _field_errors(raw: object) -> list[FieldError]:
    if not isinstance(raw, list):
        return []
    found = []
    for item in raw:
        if isinstance(item, Mapping):
            found.append(
                FieldError(
                    code=_str(item.get("code")),
                    message=_str(item.get("message")),
                    resource=_str(item.get("resource")),
                    field=_str(item.get("field")),
                )
            )
    return found


def _str(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class _ErrorBody:
    code: str | None
    message: str | None
    errors: list[FieldError]


def _parse_error_body(response: httpx.Response) -> _ErrorBody:
    try:
        data: Any = json.loads(response.content) if response.content else None
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        return _ErrorBody(
            code=_str(data.get("code")),
            message=_str(data.get("message")),
            errors=_field_errors(data.get("errors")),
        )
    excerpt = body_excerpt(response.text) if response.content else ""
    return _ErrorBody(code=None, message=excerpt or None, errors=[])


def _connectwise_said(body: _ErrorBody) -> str:
    said = body.message or "no message"
    if body.code:
        said = f"{body.code}: {said}"
    text = f"ConnectWise said: {said}"
    if body.errors:
        text += "; " + "; ".join(error.describe() for error in body.errors)
    return text


def error_from_response(response: httpx.Response) -> ConnectWiseError:
    """The error for a non-success response, with ConnectWise's text and the operator's fix."""
    method = response.request.method
    path = api_path(response.request.url)
    status = response.status_code
    body = _parse_error_body(response)
    said = _connectwise_said(body)
    head = f"ConnectWise {method} {path} returned HTTP {status}"
    kind: type[ConnectWiseError] = ConnectWiseError
    if status == 401:
        kind = AuthenticationFailed
        advice = (
            "the company/public/private key pair was rejected (or the API member is inactive); "
            "check CW_COMPANY, CW_PUBLIC_KEY and CW_PRIVATE_KEY"
        )
    elif status == 403:
        kind = PermissionDenied
        advice = _permission_advice(method, path)
    elif status == 400:
        kind = BadRequest
        advice = _bad_request_advice(body, response.request.url)
    elif status == 404:
        kind = NotFound
        advice = "not found"
    else:
        advice = "unexpected response"
    return kind(
        f"{head}: {advice}. {said}",
        status=status,
        code=body.code,
        cw_message=body.message,
        errors=body.errors,
        method=method,
        path=path,
    )


def _permission_advice(method: str, path: str) -> str:
    module = required_module(path)
    level = _LEVEL_BY_METHOD.get(method, "the needed")
    grant = (
        f"grant {module} at {level} level (All)"
        if module
        else f"grant the module that covers {path} at {level} level"
    )
    return (
        f"the API member's security role lacks a permission for {method} {path}; "
        f"in System > Security Roles, {grant}"
    )


def _bad_request_advice(body: _ErrorBody, url: httpx.URL) -> str:
    conditions = url.params.get("conditions")
    if body.code == "ApiFindCondition":
        shown = conditions if conditions is not None else "(none sent)"
        return f"the condition was rejected: {shown}"
    return "ConnectWise rejected the request"
