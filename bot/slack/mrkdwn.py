"""Slack mrkdwn for untrusted text: escaping, cutting, http(s) links and user mentions.

Every text node is escaped (``&``, ``<``, ``>``), so a ticket summary such as ``<!channel> hi``
shows literally and pings nobody; text is cut with an ellipsis, never inside an escape
(``&amp;``), a ``<url|label>`` link or a ``<@U…>`` mention; only ``http``/``https`` URLs become
links, percent-encoded so that nothing in them ends or splits the link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from bot.chat.message import Line, Span
from bot.slack.block_limits import (
    ELLIPSIS,
    MAX_IMAGE_URL,
    MAX_LINK_LABEL,
    MAX_LINK_URL,
    MAX_USER_ID,
)

# The entities and the <…> sequences (links, mentions) of escaped mrkdwn: never cut inside one.
_ATOM = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")


def escape(text: str) -> str:
    """mrkdwn escaping of untrusted text: Slack's three control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """Plain ``text`` in at most ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS


def cut_mrkdwn(text: str, limit: int) -> str:
    """Escaped mrkdwn ``text`` in at most ``limit`` characters, ending in "…" when cut; the cut
    falls before an escape (``&amp;``), a link or a mention it would otherwise split."""
    if len(text) <= limit:
        return text
    end = max(limit - 1, 0)
    for atom in _ATOM.finditer(text):
        if atom.start() >= end:
            break
        if atom.end() > end:
            end = atom.start()
            break
    return text[:end].rstrip() + ELLIPSIS


# ---- URLs -------------------------------------------------------------------------------------

# RFC 3986's reserved characters and "%" stay as they are; anything else that is not a letter,
# digit or "-._~" is percent-encoded: spaces, controls, quotes and Slack's "<", ">" and "|".
_URL_SAFE = "!#$%&'()*+,/:;=?@[]"


def web_url(url: str) -> str | None:
    """``url`` percent-encoded so that it is one token, when it is an http(s) URL with a host;
    None for any other scheme (``javascript:``, ``data:``, ``mailto:``…) or no URL at all."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(url, safe=_URL_SAFE)


def image_url(url: str) -> str | None:
    """An image block's URL: http(s), at most ``MAX_IMAGE_URL`` characters; else None."""
    found = web_url(url)
    return found if found is not None and len(found) <= MAX_IMAGE_URL else None


def link_url(url: str) -> str | None:
    """A URL as written inside ``<url|label>``: http(s), escaped, at most ``MAX_LINK_URL``."""
    found = web_url(url)
    if found is None:
        return None
    escaped = found.replace("&", "&amp;")
    return escaped if len(escaped) <= MAX_LINK_URL else None


# ---- mentions: a template links a person's name to ``mention:USER_ID`` -----------------------

MENTION_PREFIX = "mention:"


def mention_user(link: str | None) -> str | None:
    """The Slack user id of a ``mention:ID`` link, reduced to ``[A-Z0-9]`` so that no data can
    smuggle mrkdwn into ``<@ID>``; None for any other link, or an id with nothing left or too
    long to be one."""
    if link is None or not link.startswith(MENTION_PREFIX):
        return None
    user = re.sub(r"[^A-Z0-9]", "", link[len(MENTION_PREFIX) :])
    return user if user and len(user) <= MAX_USER_ID else None


# ---- text -------------------------------------------------------------------------------------


def _span(span: Span) -> str:
    text = escape(span.text)
    stripped = text.strip()
    if not stripped:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    user = mention_user(span.link)
    body = stripped
    if user:  # a user group (S…) is mentioned as one, like @oncall; a person as <@U…>
        body = f"<!subteam^{user}>" if user.startswith("S") else f"<@{user}>"
    if span.code and not user:
        body = f"`{body}`"
    if span.bold:
        body = f"*{body}*"
    if span.italic:
        body = f"_{body}_"
    url = None
    if span.link is not None and not span.link.startswith(MENTION_PREFIX):
        url = link_url(span.link)
    if url is not None:
        label = cut_mrkdwn(" ".join(body.split()), MAX_LINK_LABEL)
        body = f"<{url}|{label}>"
    return lead + body + trail


def mrkdwn(line: Line) -> str:
    return "".join(_span(s) for s in line)


def plain(text: str, limit: int) -> str:
    """A plain_text field: one line, at most ``limit`` characters (maybe empty)."""
    return cut(" ".join(text.split()), limit)


def mrkdwn_lines(lines: Iterable[Line]) -> list[str]:
    """The mrkdwn of each line that shows something."""
    return [text for text in (mrkdwn(line) for line in lines) if text.strip()]
