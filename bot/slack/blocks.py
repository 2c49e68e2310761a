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

This module renders a message; the limits are in ``bot.slack.block_limits``, mrkdwn text
(escaping, cutting, links, mentions) in ``bot.slack.mrkdwn``, the blocks and elements in
``bot.slack.block_elements``, and fitting the whole message in ``bot.slack.block_fit``.
"""

from __future__ import annotations

from typing import Any

from bot.chat.message import (
    Actions,
    Block,
    Context,
    Divider,
    Header,
    Image,
    ListBlock,
    Message,
    Paragraph,
    message_plain_text,
)
from bot.slack.block_elements import (
    actions_block,
    context_block,
    image_block,
    sections,
    unique_id,
)
from bot.slack.block_fit import fit
from bot.slack.block_limits import (
    ELLIPSIS,
    MAX_FALLBACK,
    MAX_HEADER,
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
)
from bot.slack.mrkdwn import (
    cut,
    cut_mrkdwn,
    escape,
    link_url,
    mention_user,
    mrkdwn,
    mrkdwn_lines,
    plain,
    web_url,
)

__all__ = [
    "MAX_OPTIONS",
    "MAX_OPTION_TEXT",
    "cut",
    "cut_mrkdwn",
    "escape",
    "link_url",
    "mention_user",
    "mrkdwn",
    "to_slack",
    "unique_id",
    "web_url",
]


def _blocks_of(block: Block) -> list[dict[str, Any]]:
    match block:
        case Header(text=text):
            title = plain(text, MAX_HEADER)
            return (
                [{"type": "header", "text": {"type": "plain_text", "text": title}}] if title else []
            )
        case Paragraph(lines=lines):
            return sections(mrkdwn_lines(lines))
        case ListBlock(items=items, ordered=ordered):
            texts = [(i, mrkdwn(item)) for i, item in enumerate(items, start=1)]
            bullet = "{}. " if ordered else "• "
            return sections([bullet.format(i) + text for i, text in texts if text.strip()])
        case Context(lines=lines):
            return context_block(mrkdwn_lines(lines))
        case Divider():
            return [{"type": "divider"}]
        case Image(src=src, alt=alt):
            return image_block(src, alt)
        case Actions():
            return actions_block(block)
    raise TypeError(f"not a block: {block!r}")


def unique_block_ids(blocks: list[dict[str, Any]]) -> None:
    taken: set[str] = set()
    for block in blocks:
        if "block_id" in block:
            block["block_id"] = unique_id(block["block_id"], taken)


def to_slack(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """The ``text`` fallback and the ``blocks`` of ``chat.postMessage`` for a message."""
    rendered = [drawn for block in message.blocks for drawn in _blocks_of(block)]
    unique_block_ids(rendered)
    fallback = message.text if message.text.strip() else message_plain_text(message)
    text = cut_mrkdwn(escape(fallback), MAX_FALLBACK)
    return text if text.strip() else ELLIPSIS, fit(rendered)
