"""``bot.chat.Message`` → Slack Block Kit: valid on every input, whatever the data holds.

Every text node is escaped for mrkdwn (``&``, ``<``, ``>``), so a ticket summary such as
``<!channel> hi`` shows literally and pings nobody. Then every limit Slack documents holds for
any data size, so that no name, summary, link or list can make Slack refuse the message:

=============================  ========  ==================================================
what                           limit     Slack's documentation (docs.slack.dev/reference/…)
=============================  ========  ==================================================
blocks in a message            50        block-kit/blocks ("up to 50 blocks in each message")
section ``text``               1–3000    block-kit/blocks/section-block
header ``text`` (plain_text)   1–150     block-kit/blocks/header-block
context ``elements``           10        block-kit/blocks/context-block
mrkdwn text object ``text``    1–3000    block-kit/composition-objects/text-object
actions ``elements``           25        block-kit/blocks/actions-block
button ``text``                1–75      block-kit/block-elements/button-element
button ``value``               2000      block-kit/block-elements/button-element
select ``placeholder``         150       block-kit/block-elements/select-menu-element
static select ``options``      100       block-kit/block-elements/select-menu-element
option ``text`` / ``value``    75 / 150  block-kit/composition-objects/option-object
``action_id``                  255       unique among the action_ids of its block
``block_id``                   255       unique for each message
image ``image_url``            3000      block-kit/blocks/image-block
image ``alt_text``             2000      block-kit/blocks/image-block
=============================  ========  ==================================================

- The message as a whole: Slack refuses blocks that are too long together
  (``msg_blocks_too_long``) at a ceiling it does not document for section and context blocks;
  the markdown block's reference gives 12,000 characters for all of a message's markdown, and
  reports (github.com/slackapi/bolt-js issues 2509 and 2867) show refusals from about 13,000
  characters of text. ``MAX_TOTAL`` holds the blocks' JSON (``json.dumps``), which is never
  shorter than their text, to 12,000 characters.
- The notification ``text``: chat.postMessage truncates it beyond 40,000 characters and asks
  for at most 4,000 (api.slack.com/changelog/2018-04-truncating-really-long-messages and the
  method's reference); it is escaped like the blocks and held to ``MAX_FALLBACK`` (3,000).
- Escaping: messaging/formatting-message-text ("Escaping text"): ``&amp;``, ``&lt;``, ``&gt;``.

The rules that keep those limits on hostile data:

- Text is cut with an ellipsis, never inside an escape (``&amp;``) or a ``<url|label>`` link or
  ``<@U…>`` mention; text Slack requires and that is empty (a header, a section, a context
  line) drops its block, and an empty button or option shows ``PLACEHOLDER``.
- Only ``http``/``https`` URLs become links or images; in a link, characters that would end it
  or split it (``<``, ``>``, ``|``, spaces, controls) are percent-encoded; a URL that is not
  http(s), or too long (``MAX_LINK_URL`` in a link, 3,000 for an image), leaves the label as
  plain text or drops the image.
- ``block_id``s are unique in the message and ``action_id``s in their block: the first keeps
  its id (``nudge:TICKET``, ``nudge_save``…: what the listeners match), a later duplicate (or
  one that only collides once cut to 255) gets ``~2``, ``~3``… (``unique_id``).
- What does not fit in 50 blocks or ``MAX_TOTAL`` is cut from the middle: a leading header and
  the trailing context and actions blocks (the "as of" line, the buttons) stay, shrunk to a
  share of the budget if they are huge (a select then loads its options on demand, then the
  last elements go), and the body is kept in order until it fills the rest, followed by
  "…and N more" (lines or blocks left out).
- A header is plain_text, which Slack shows as written and never parses: it is not escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from bot.chat.message import (
    Actions,
    Block,
    Button,
    Context,
    Divider,
    Header,
    Image,
    Line,
    ListBlock,
    Message,
    Option,
    Paragraph,
    Select,
    Span,
    message_plain_text,
)

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_TEXT = 3000  # a mrkdwn text object (a context element)
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_PLACEHOLDER = 150
MAX_ID = 255
MAX_IMAGE_URL = 3000
MAX_ALT_TEXT = 2000
MAX_TOTAL = 12_000
MAX_FALLBACK = 3000

# Not Slack's: a link (URL, label and brackets) always fits in one section or context line.
MAX_LINK_URL = 2000  # as written in mrkdwn, escaped
MAX_LINK_LABEL = 500
MAX_USER_ID = 64  # Slack's are about 11 characters; a longer one is not an id

PLACEHOLDER = "(untitled)"  # what shows for an empty button or option
ELLIPSIS = "…"

# The share of MAX_TOTAL the trailing context and actions blocks may take when a message is cut.
TAIL_SHARE = MAX_TOTAL // 2
TAIL_BLOCKS = 3  # at most this many trailing context/actions blocks are kept whatever the size

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


def unique_id(base: str, taken: set[str], limit: int = MAX_ID) -> str:
    """``base`` cut to ``limit``, or if that is taken the first free ``base~2``, ``base~3``…;
    the result is added to ``taken``."""
    candidate = base[:limit]
    n = 1
    while candidate in taken:
        n += 1
        suffix = f"~{n}"
        candidate = base[: limit - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


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
    body = f"<@{user}>" if user else stripped
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


def _plain(text: str, limit: int) -> str:
    """A plain_text field: one line, at most ``limit`` characters (maybe empty)."""
    return cut(" ".join(text.split()), limit)


def _lines(lines: Iterable[Line]) -> list[str]:
    """The mrkdwn of each line that shows something."""
    return [text for text in (mrkdwn(line) for line in lines) if text.strip()]


# ---- blocks -----------------------------------------------------------------------------------


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(texts: Sequence[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts]}


def _sections(lines: Sequence[str]) -> list[dict[str, Any]]:
    """Lines packed into sections of at most ``MAX_SECTION`` characters; a huge line is cut."""
    sections: list[dict[str, Any]] = []
    current: list[str] = []
    size = 0
    for raw in lines:
        line = cut_mrkdwn(raw, MAX_SECTION)
        if current and size + 1 + len(line) > MAX_SECTION:
            sections.append(_section("\n".join(current)))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    if current:
        sections.append(_section("\n".join(current)))
    return sections


def _context_block(lines: Sequence[str]) -> list[dict[str, Any]]:
    if not lines:
        return []
    shown = list(lines[: MAX_CONTEXT_ELEMENTS - 1])
    rest = lines[MAX_CONTEXT_ELEMENTS - 1 :]
    if rest:  # lines past the tenth share the last element
        shown.append("\n".join(rest))
    return [_context([cut_mrkdwn(text, MAX_TEXT) for text in shown])]


def _option(option: Option) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": _plain(option.text, MAX_OPTION_TEXT) or PLACEHOLDER},
        "value": option.value[:MAX_OPTION_VALUE],
    }


def _options(options: Sequence[Option]) -> list[dict[str, Any]]:
    """Each value once (the first option with it), none empty."""
    seen: set[str] = set()
    rendered = []
    for option in options:
        drawn = _option(option)
        if drawn["value"] and drawn["value"] not in seen:
            seen.add(drawn["value"])
            rendered.append(drawn)
    return rendered


def _button(element: Button, action_id: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {
            "type": "plain_text",
            "text": _plain(element.text, MAX_BUTTON_TEXT) or PLACEHOLDER,
        },
        "action_id": action_id,
    }
    if element.value:
        button["value"] = element.value[:MAX_BUTTON_VALUE]
    if element.style in ("primary", "danger"):
        button["style"] = element.style
    return button


def _select(element: Select, action_id: str) -> dict[str, Any]:
    placeholder = {
        "type": "plain_text",
        "text": _plain(element.placeholder, MAX_PLACEHOLDER) or "Choose",
    }
    options = _options(element.options)
    initial = None
    if element.initial:
        value = element.initial[:MAX_OPTION_VALUE]
        initial = next((o for o in options if o["value"] == value), None)
    select: dict[str, Any]
    if element.external or len(options) > MAX_OPTIONS:
        select = {
            "type": "external_select",
            "action_id": action_id,
            "placeholder": placeholder,
            "min_query_length": 0,
        }
    else:
        none = {"text": {"type": "plain_text", "text": "(none)"}, "value": "-"}
        select = {
            "type": "static_select",
            "action_id": action_id,
            "placeholder": placeholder,
            "options": options or [none],
        }
    if initial is not None:
        select["initial_option"] = initial
    return select


def _actions(block: Actions) -> list[dict[str, Any]]:
    taken: set[str] = set()
    elements = []
    for element in block.elements[:MAX_ACTION_ELEMENTS]:
        action_id = unique_id(element.action or "action", taken)
        if isinstance(element, Button):
            elements.append(_button(element, action_id))
        else:
            elements.append(_select(element, action_id))
    if not elements:
        return []
    rendered: dict[str, Any] = {"type": "actions", "elements": elements}
    if block.block_id:
        rendered["block_id"] = block.block_id  # cut and made unique by _unique_block_ids
    return [rendered]


def _image(src: str, alt: str) -> list[dict[str, Any]]:
    if src.startswith("attachment:"):
        return []  # uploaded separately (files_upload_v2) by the messenger
    url = image_url(src)
    if url is None:
        return []
    return [{"type": "image", "image_url": url, "alt_text": _plain(alt, MAX_ALT_TEXT) or "image"}]


def _blocks_of(block: Block) -> list[dict[str, Any]]:
    match block:
        case Header(text=text):
            title = _plain(text, MAX_HEADER)
            return (
                [{"type": "header", "text": {"type": "plain_text", "text": title}}] if title else []
            )
        case Paragraph(lines=lines):
            return _sections(_lines(lines))
        case ListBlock(items=items, ordered=ordered):
            texts = [(i, mrkdwn(item)) for i, item in enumerate(items, start=1)]
            bullet = "{}. " if ordered else "• "
            return _sections([bullet.format(i) + text for i, text in texts if text.strip()])
        case Context(lines=lines):
            return _context_block(_lines(lines))
        case Divider():
            return [{"type": "divider"}]
        case Image(src=src, alt=alt):
            return _image(src, alt)
        case Actions():
            return _actions(block)
    raise TypeError(f"not a block: {block!r}")


def _unique_block_ids(blocks: list[dict[str, Any]]) -> None:
    taken: set[str] = set()
    for block in blocks:
        if "block_id" in block:
            block["block_id"] = unique_id(block["block_id"], taken)


# ---- the whole message: 50 blocks, MAX_TOTAL characters -----------------------------------------


def _size(block: dict[str, Any]) -> int:
    """What ``block`` adds to the JSON of the block list (its text and the ", " after it)."""
    return len(json.dumps(block, ensure_ascii=False)) + 2


def _more(count: int) -> dict[str, Any]:
    return _context([f"…and {count} more"])


def _units(block: dict[str, Any]) -> int:
    """What a reader would count in ``block``: its lines, elements, or the block itself."""
    if block["type"] == "section":
        return int(block["text"]["text"].count("\n")) + 1
    if block["type"] == "context":
        return len(block["elements"])
    return 0 if block["type"] == "divider" else 1


def _total(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def _most(count: int, fits: Callable[[int], bool]) -> int:
    """The largest ``k`` in ``1..count`` with ``fits(k)`` (``fits`` grows false with ``k``), or
    0 when none fits."""
    low, high = 0, count
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _cut_to(make: Callable[[str], dict[str, Any]], text: str, budget: int) -> dict[str, Any] | None:
    """``make(t)`` for the longest cut ``t`` of ``text`` whose size is within ``budget``; None
    when not even a few words fit."""
    limit = len(text)
    while limit >= 20:
        block = make(cut_mrkdwn(text, limit))
        over = _size(block) - budget
        if over <= 0:
            return block
        limit -= over
    return None


def _shrink(block: dict[str, Any], budget: int) -> dict[str, Any] | None:
    """``block`` made to take at most ``budget`` characters (fewer lines, elements, a cut
    text); None when nothing of it fits."""
    if _size(block) <= budget:
        return block
    kind = block["type"]
    if kind in ("section", "context"):
        section = kind == "section"
        texts = (
            block["text"]["text"].split("\n")
            if section
            else [element["text"] for element in block["elements"]]
        )

        def make(kept: list[str]) -> dict[str, Any]:
            return _section("\n".join(kept)) if section else _context(kept)

        keep = _most(len(texts), lambda k: _size(make(texts[:k])) <= budget)
        if keep:
            return make(texts[:keep])
        return _cut_to(lambda text: make([text]), texts[0], budget)
    if kind == "actions":
        # selects load their options on demand (keeping the current choice), then the last
        # elements go
        elements = [_on_demand(e) for e in block["elements"]]
        keep = _most(len(elements), lambda k: _size({**block, "elements": elements[:k]}) <= budget)
        return {**block, "elements": elements[:keep]} if keep else None
    return None


def _on_demand(element: dict[str, Any]) -> dict[str, Any]:
    if element["type"] != "static_select":
        return element
    drawn = {k: v for k, v in element.items() if k != "options"}
    return {**drawn, "type": "external_select", "min_query_length": 0}


def _fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most ``MAX_BLOCKS`` blocks of at most ``MAX_TOTAL`` characters, cut in the middle."""
    if len(blocks) <= MAX_BLOCKS and _total(blocks) <= MAX_TOTAL:
        return blocks
    head = blocks[:1] if blocks and blocks[0]["type"] == "header" else []
    rest = blocks[len(head) :]
    count = 0
    while count < min(TAIL_BLOCKS, len(rest)) and rest[-1 - count]["type"] in (
        "context",
        "actions",
    ):
        count += 1
    body = rest[: len(rest) - count]
    dropped = 0
    notice = _size(_more(10**9))
    # the last block first: it may take all of the share, the others what it leaves; the
    # share is TAIL_SHARE, or more when the body leaves more
    tail: list[dict[str, Any]] = []
    share = max(TAIL_SHARE, MAX_TOTAL - 2 - notice - sum(_size(b) for b in head + body))
    for block in reversed(rest[len(rest) - count :]):
        part = _shrink(block, share)
        if part is None:
            dropped += _units(block)
            continue
        tail.insert(0, part)
        share -= _size(part)
    budget = MAX_TOTAL - 2 - notice - sum(_size(b) for b in head + tail)
    slots = MAX_BLOCKS - 1 - len(head) - len(tail)
    kept: list[dict[str, Any]] = []
    for i, block in enumerate(body):
        if len(kept) < slots and _size(block) <= budget:
            kept.append(block)
            budget -= _size(block)
            continue
        part = _shrink(block, budget) if len(kept) < slots else None
        if part is not None:
            kept.append(part)
        dropped += _units(block) - (_units(part) if part is not None else 0)
        dropped += sum(_units(b) for b in body[i + 1 :])
        break
    return [*head, *kept, *([_more(dropped)] if dropped else []), *tail]


def to_slack(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """The ``text`` fallback and the ``blocks`` of ``chat.postMessage`` for a message."""
    rendered = [drawn for block in message.blocks for drawn in _blocks_of(block)]
    _unique_block_ids(rendered)
    fallback = message.text if message.text.strip() else message_plain_text(message)
    text = cut_mrkdwn(escape(fallback), MAX_FALLBACK)
    return text if text.strip() else ELLIPSIS, _fit(rendered)
