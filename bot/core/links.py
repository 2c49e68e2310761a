"""Links from chat messages back to ConnectWise tickets.

``[connectwise] ticket_url`` is a template with ``{id}``; without it the link is derived from
``CW_API_URL``: ``https://api-na.myconnectwise.net/v4_6_release/apis/3.0`` gives
``https://na.myconnectwise.net/v4_6_release/services/system_io/Service/fv_sr100_request.rails?service_recid={id}``.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from bot.config import DeskboardConfig
from bot.settings import Settings

TicketLink = Callable[[int], str | None]
SERVICE_PATH = "services/system_io/Service/fv_sr100_request.rails?service_recid={id}"


def ticket_link(config: DeskboardConfig, settings: Settings) -> TicketLink:
    template = config.connectwise.ticket_url
    if template is None and settings.cw_api_url and "/apis/3.0" in settings.cw_api_url:
        parts = urlsplit(settings.cw_api_url)
        host = parts.netloc.removeprefix("api-")
        codebase = parts.path.split("/apis/3.0")[0].rstrip("/")
        template = urlunsplit((parts.scheme, host, f"{codebase}/", "", "")) + SERVICE_PATH
    if template is None:
        return lambda _ticket_id: None
    return lambda ticket_id: template.replace("{id}", str(ticket_id))
