"""Slack's Block Kit limits, and Deskboard's own, that ``bot.slack.blocks`` holds on any data.

The table of where each of Slack's limits is documented is in ``bot.slack.blocks``.
"""

from __future__ import annotations

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
