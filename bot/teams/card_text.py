"""Text in Adaptive Cards: escaping untrusted text for card markdown, links and mentions.

Every character that can start markup is backslash-escaped everywhere, so
``**[x](http://evil)**`` and ``<at>Everyone</at>`` show literally. A ``mention:ID`` link
becomes ``<at>Name</at>`` plus an entity when ID looks like a Teams user id (collected by
``Mentions``); anything else shows the name.
"""

from __future__ import annotations

import re
from typing import Any

from bot.chat.message import Line, Span

MAX_LINE = 2_000  # characters of one line of text, before escaping
MENTION_PREFIX = "mention:"


_MARKUP = re.compile(r"([\\*_~\[\]()#+\-.!<>`|])")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def flat(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text)


def escape(text: str) -> str:
    """Adaptive Card markdown escaping of untrusted text: a backslash before every character
    that can start markup, and line breaks as spaces (a line could otherwise start a list)."""
    return _MARKUP.sub(r"\\\1", flat(text))


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_URL_ESCAPES = str.maketrans(
    {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\\": "%5C", '"': "%22"}
)
_LINK_SCHEMES = ("https://", "http://", "mailto:")


def link_url(link: str | None) -> str | None:
    """A link target safe inside ``[text](url)``: http(s) or mailto only, with the characters
    that would end or break the target percent-encoded; None for anything else."""
    if link is None:
        return None
    url = _LINE_BREAKS.sub("", link.strip())
    if not url.lower().startswith(_LINK_SCHEMES):
        return None
    return url.translate(_URL_ESCAPES)


# ---- mentions -------------------------------------------------------------------------------

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TEAMS_USER_ID = re.compile(
    rf"(?:29:[A-Za-z0-9_\-]{{1,200}}|(?:8:orgid:)?{_GUID}"
    r"|[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})+)"
)
_NAME_MARKUP = re.compile(r"[\\*_~\[\]()#+!<>`|]")


_TAG = re.compile(r"tag:([A-Za-z0-9+/=_\-]{1,200})")


def mention_tag(link: str | None) -> str | None:
    """The Teams tag id of a ``mention:tag:ID`` link (an alert's ``mention``), else None."""
    if link is None or not link.startswith(MENTION_PREFIX):
        return None
    found = _TAG.fullmatch(link[len(MENTION_PREFIX) :])
    return found.group(1) if found else None


def mention_user(link: str | None) -> str | None:
    """The Teams user of a ``mention:ID`` link when ID looks like one (a Bot Framework id
    ``29:...``, ``8:orgid:GUID``, an Entra object id or a user principal name); None for any
    other link or id, so that the name shows as plain text."""
    if link is None or not link.startswith(MENTION_PREFIX):
        return None
    user = link[len(MENTION_PREFIX) :]
    return user if _TEAMS_USER_ID.fullmatch(user) else None


def mention_name(name: str) -> str:
    """The name inside ``<at>…</at>``. Teams finds a mention by comparing the entity's text
    with the card's text, so the name carries no escapes (they could break that match):
    characters that could be markup are dropped instead."""
    return " ".join(_NAME_MARKUP.sub(" ", flat(name)).split()) or "someone"


# ---- lines ----------------------------------------------------------------------------------


def _cut_line(line: Line, limit: int) -> Line:
    """``line`` with at most ``limit`` characters of text, the last one an ellipsis."""
    if sum(len(s.text) for s in line) <= limit:
        return line
    kept: list[Span] = []
    room = limit - 1
    for span in line:
        if len(span.text) >= room:
            text = span.text[:room] + "…"
            kept.append(Span(text, span.bold, span.italic, span.code, span.link))
            break
        kept.append(span)
        room -= len(span.text)
    return tuple(kept)


class Mentions:
    """The mentions a card's text makes, as ``msteams.entities``."""

    def __init__(self) -> None:
        self.entities: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, user: str, name: str, *, tag: bool = False) -> str:
        """The ``<at>`` text of a mention of ``user`` (a tag's id when ``tag``)."""
        text = f"<at>{mention_name(name)}</at>"
        mentioned = {"id": user, "name": name.strip()}
        if tag:
            mentioned["type"] = "tag"
        self.entities.setdefault(
            (text, user), {"type": "mention", "text": text, "mentioned": mentioned}
        )
        return text


def _span(span: Span, mentions: Mentions) -> str:
    text = flat(span.text)
    stripped = text.strip()
    if not stripped:
        return " " if text else ""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    user = mention_user(span.link)
    tag = mention_tag(span.link)
    if user:
        body = mentions.add(user, stripped)
    elif tag:
        body = mentions.add(tag, stripped.lstrip("@"), tag=True)
    elif span.code:
        code = stripped.replace("`", "")
        if not code:
            return lead + trail
        body = f"`{escape(code)}`"
    else:
        body = escape(stripped)
    if span.italic:
        body = f"_{body}_"
    if span.bold:
        body = f"**{body}**"
    url = None if user else link_url(span.link)
    if url:
        body = f"[{body}]({url})"
    return lead + body + trail


def markdown(line: Line, mentions: Mentions) -> str:
    """One line of spans as Adaptive Card markdown."""
    return "".join(_span(s, mentions) for s in _cut_line(line, MAX_LINE)).strip()
