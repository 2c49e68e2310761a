"""Wallboards managed from Slack: ``/deskboard board new|list|revoke`` for admins only; the
link is shown once, to the admin alone, and revoking it ends it at once."""

from __future__ import annotations

import re

from bot.core.boards import find_board
from tests.bot.slack.conftest import ADMIN, GUEST, slash, texts


def reply_text(slack, count: int) -> str:
    return texts(slack.wait_for_response(count=count)[count - 1]["blocks"])


def test_an_admin_makes_lists_and_revokes_a_board(app, slack, engine):
    slash(app, slack, "/deskboard", "board new Office TV", user=ADMIN)
    made = slack.wait_for_response()[0]
    assert made["response_type"] == "ephemeral"
    text = texts(made["blocks"])
    match = re.search(r"/board/([A-Za-z0-9_\-]{43,})", text)
    assert match is not None, text
    board = find_board(engine, match.group(1))
    assert board is not None
    assert board.name == "Office TV"
    slash(app, slack, "/deskboard", "board list", user=ADMIN)
    listed = reply_text(slack, 2)
    assert f"{board.id}: Office TV (all running contests, dark)" in listed
    assert match.group(1) not in listed  # the token is shown once
    slash(app, slack, "/deskboard", f"board revoke {board.id}", user=ADMIN)
    assert "revoked" in reply_text(slack, 3)
    assert find_board(engine, match.group(1)) is None


def test_boards_are_for_admins_and_bad_arguments_get_usage(app, slack, engine):
    slash(app, slack, "/deskboard", "board new Sneaky", user=GUEST)
    assert "Only Deskboard admins can manage wallboards" in reply_text(slack, 1)
    slash(app, slack, "/deskboard", "board revoke soon", user=ADMIN)
    assert "board takes new NAME, list or revoke ID" in reply_text(slack, 2)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM wallboards").scalar() == 0
