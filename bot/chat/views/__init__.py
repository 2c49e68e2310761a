"""What each chat message shows, built from metrics objects: pure functions, no I/O.

Every ``*_message`` function returns a chat-neutral ``Message`` rendered from a template in
``bot/chat/templates``. The decisions about *what* is shown live here, where they can be tested
without a template: which rows, in which order, where a long list is cut ("and N more"), how a
value is formatted. The templates decide the wording.

Limits: chat platforms refuse large messages (Slack: 50 blocks, about 12,000 characters of
blocks), so every list a view draws from data is cut here, at sizes chosen so that the worst
case (long names, long summaries, long ticket links) still fits. ``bot.slack.blocks`` enforces
the hard limits again as a safety net.

People: a ``Person`` carries the name to show and, when the platform knows the technician's
chat account, a ``mention`` (the platform's user id). Templates draw a mention as a link to
``mention:ID`` with the name as its text; the Slack renderer turns it into ``<@ID>`` and every
other renderer shows the name. Standings never mention anyone, so a scheduled post does not
ping everybody on the board; winners and kudos do.
"""

from bot.chat.views.commands import (
    COMMANDS,
    contests_message,
    help_message,
    status_message,
    usage_message,
)
from bot.chat.views.common import REASON_TEXT, ContestLine, Person, TicketLine, person_for, shorten
from bot.chat.views.csat import (
    csat_alert_message,
    csat_kudos_message,
    csat_recovered_message,
)
from bot.chat.views.kudos import KudosItem, kudos_digest_message, kudos_message
from bot.chat.views.nudges import (
    NUDGE_DIGEST_MAX,
    NUDGE_DIGEST_SIZE,
    NUDGE_TICKET_OPTIONS_SIZE,
    NudgeItem,
    nudge_digest_message,
    nudge_done_message,
    nudge_ticket_ids,
    nudge_ticket_message,
)
from bot.chat.views.personal import (
    DragTicket,
    RankRow,
    StatRow,
    home_view,
    mystats_message,
    rank_row,
    stat_rows,
)
from bot.chat.views.standings import leaderboard_message, shared_by, winners_message

__all__ = [
    "COMMANDS",
    "NUDGE_DIGEST_MAX",
    "NUDGE_DIGEST_SIZE",
    "NUDGE_TICKET_OPTIONS_SIZE",
    "REASON_TEXT",
    "ContestLine",
    "DragTicket",
    "KudosItem",
    "NudgeItem",
    "Person",
    "RankRow",
    "StatRow",
    "TicketLine",
    "contests_message",
    "csat_alert_message",
    "csat_kudos_message",
    "csat_recovered_message",
    "help_message",
    "home_view",
    "kudos_digest_message",
    "kudos_message",
    "leaderboard_message",
    "mystats_message",
    "nudge_digest_message",
    "nudge_done_message",
    "nudge_ticket_ids",
    "nudge_ticket_message",
    "person_for",
    "rank_row",
    "shared_by",
    "shorten",
    "stat_rows",
    "status_message",
    "usage_message",
    "winners_message",
]
