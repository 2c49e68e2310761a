"""Wallboards managed from Slack: ``/deskboard board new|list|revoke`` for admins only; the
link is shown once, to the admin alone, and revoking it ends it at once."""

from __future__ import annotations

import json
import re

from slack_sdk.models.views import View

from bot.core.boards import find_board, new_board
from tests.bot.slack.conftest import ADMIN, GUEST, NOW, slash, texts
from tests.bot.slack.test_contest_admin import click_in_home, submit


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


def test_the_admin_tab_lists_boards_with_revoke(app, slack, engine):
    _, token = new_board(engine, name="Lobby TV", contests=[], theme="light", actor="t", now=NOW)
    board = find_board(engine, token)
    assert board is not None
    click_in_home(app, ADMIN, "home_tab", "admin")
    view = slack.wait_for_call("views.publish")[0].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert f"*Lobby TV* (board {board.id}): all running contests, light" in texts(view["blocks"])
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {"action_id": "board_revoke", "value": str(board.id)}.items() <= next(
        e for e in buttons if e["action_id"] == "board_revoke"
    ).items()
    click_in_home(app, GUEST, "board_revoke", str(board.id))
    assert (
        "Only Deskboard admins can revoke wallboards"
        in slack.wait_for_call("chat.postMessage")[0].params["text"]
    )
    assert find_board(engine, token) is not None
    click_in_home(app, ADMIN, "board_revoke", str(board.id))
    told = slack.wait_for_call("chat.postMessage", count=2)[1].params["text"]
    assert told == f"Board {board.id} revoked: its link stops working now."
    assert find_board(engine, token) is None


def test_new_board_in_the_admin_tab_opens_a_form_and_dms_the_link(app, slack, engine):
    click_in_home(app, GUEST, "board_new", "")
    assert "Only Deskboard admins" in slack.wait_for_call("chat.postMessage")[0].params["text"]
    click_in_home(app, ADMIN, "board_new", "")
    (opened,) = slack.wait_for_call("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    View(**view).validate_json()  # slack_sdk's model of a valid modal
    assert view["callback_id"] == "board_form"
    shows = next(b for b in view["blocks"] if b.get("block_id") == "shows")["element"]
    options = [o["value"] for o in shows["options"]]
    assert options[0] == "all"
    assert "Most resolved" in options  # the running contests, each by name
    blank = submit(app, view, {"name": "  ", "theme": "light"})
    assert blank["response_action"] == "errors"
    assert blank["errors"] == {"name": "Give the board a name."}
    gone = submit(app, view, {"name": "Lobby", "shows": "Ended long ago"})
    assert "not running any more" in gone["errors"]["shows"]
    assert (
        submit(app, view, {"name": "Lobby", "shows": "all"}, user=GUEST)["response_action"]
        == "errors"
    )
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM wallboards").scalar() == 0
    answer = submit(app, view, {"name": "Service desk TV", "shows": "Most resolved"})
    assert answer == {}  # the modal closes
    told = [c.params for c in slack.wait_for_call("chat.postMessage", count=2)][-1]
    assert told["channel"] == ADMIN.id  # the link goes to that admin alone
    match = re.search(r"/board/([A-Za-z0-9_\-]{43,})", told["text"])
    assert match is not None, told["text"]
    board = find_board(engine, match.group(1))
    assert board is not None
    assert (board.name, board.contests, board.theme) == (
        "Service desk TV",
        ("Most resolved",),
        "dark",
    )
