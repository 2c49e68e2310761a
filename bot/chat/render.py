"""Templates (``bot/chat/templates/NAME.html.j2``) → chat-neutral ``Message``.

One Jinja2 environment for the process, built on first use: HTML autoescaping on (every value
a template inserts is escaped, so ticket text never becomes markup), ``StrictUndefined`` (a
misspelt variable is an error, not an empty string), and ``trim_blocks``/``lstrip_blocks``
so template control lines leave no stray whitespace. Templates use only the HTML subset that
``bot.chat.parse_message`` understands.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.chat.message import Message, parse_message

TEMPLATES = Path(__file__).parent / "templates"
SUFFIX = ".html.j2"


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_html(name: str, **context: Any) -> str:
    """The template's HTML, for tests and for platforms that read the HTML directly."""
    return environment().get_template(f"{name}{SUFFIX}").render(**context)


def render(name: str, *, text: str, **context: Any) -> Message:
    """Render template ``name`` with ``context``; ``text`` is the plain notification fallback."""
    return parse_message(render_html(name, **context), text=text)
