"""What Deskboard's own web pages share (the rating pages, the wallboard): one Jinja2
environment over ``bot/web/templates`` (autoescaped: text from tickets and chat shows as text)
and the page's own static files, served from ``bot/web/static`` with the page's headers."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).parent


@cache
def environment() -> Environment:
    from bot.web.charts import sparkline

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["sparkline"] = sparkline
    return env


def static_file(name: str, types: Mapping[str, str], headers: Mapping[str, str]) -> Any:
    """``bot/web/static/NAME`` when ``types`` lists it (with its media type), else a 404."""
    from starlette.responses import Response

    media = types.get(name)
    if media is None:
        return Response("not found", status_code=404, media_type="text/plain")
    data = (HERE / "static" / name).read_bytes()
    return Response(data, media_type=media, headers=dict(headers))
