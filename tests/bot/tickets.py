"""Small builders for ConnectWise-shaped ticket JSON (null keys omitted, as ConnectWise does)."""

from __future__ import annotations

from typing import Any


def ref(name: str, id_: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "name": name, **extra, "_info": {"href": "https://cw.example/x"}}


def ticket(
    id_: Any,
    *,
    entered: str,
    updated: str | None = None,
    board: str = "Service Desk",
    status: str = ">Closed",
    company: str | None = "Acme",
    **fields: Any,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": id_,
        "summary": f"ticket {id_}",
        "recordType": "ServiceTicket",
        "board": ref(board, 1 if board == "Service Desk" else 2),
        "status": ref(status, 5),
        "_info": {"dateEntered": entered, "lastUpdated": updated or entered, "updatedBy": "x"},
    }
    if company is not None:
        raw["company"] = {"id": 10, "identifier": company, "name": f"{company} Inc."}
    raw.update({k: v for k, v in fields.items() if v is not None})
    return raw
