"""Every view renders through its template, and the words say the right facts.

Standings are built with ``compute_standings`` from hand-made member values, so each expected
rank and winner below can be checked by reading the table that made it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import jinja2
import pytest

from bot.chat import views
from bot.chat.formatting import format_measure, ordinal
from bot.chat.message import Actions, Button, ListBlock, Message, Option, Paragraph, Select
from bot.chat.message import message_plain_text as plain
from bot.chat.render import render, render_html
from bot.chat.views import (
    DragTicket,
    KudosItem,
    NudgeItem,
    Person,
    StatRow,
    contests_message,
    help_message,
    home_view,
    kudos_digest_message,
    kudos_message,
    leaderboard_message,
    mystats_message,
    nudge_digest_message,
    nudge_done_message,
    nudge_ticket_ids,
    nudge_ticket_message,
    rank_row,
    stat_rows,
    status_message,
    usage_message,
    winners_message,
)
from bot.slack.blocks import to_slack
from metrics.contests import Contest, ContestKind
from metrics.definitions import METRICS_BY_KEY, Direction, parse_metric_ref
from metrics.standings import Standings, compute_standings
from metrics.values import MemberValues
from metrics.windows import Period, period_window
from storage.sync_state import SyncStateView

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # 10:30 CET in Amsterdam
WINDOW = period_window(Period.MONTHLY, now=NOW, tz=TZ)  # November 2026
AS_OF = "Data as of Wed 18 Nov 2026 10:30 CET"
HOSTILE = "<!channel> hi & <b>x</b>"


def contest(metric: str = "resolved", **settings) -> Contest:
    return Contest("Monthly stars", parse_metric_ref(metric, frozenset()), **settings)


def standings(c: Contest, table: dict[str, tuple[float | None, int]]) -> Standings:
    """``table``: member → (value, resolved tickets)."""
    members = {
        key: MemberValues(key, {None: resolved}, {c.refs[0].key: value})
        for key, (value, resolved) in table.items()
    }
    return compute_standings(c, members, window=WINDOW, data_as_of=NOW)


def people_for(keys, *, mention: bool = True) -> dict[str, Person]:
    return {k: Person(k, f"Name {k}", f"U{k.upper()}" if mention else None) for k in sorted(keys)}


def lines(message: Message) -> list[str]:
    return plain(message).split("\n")


def links(message: Message) -> list[str]:
    found = []
    for block in message.blocks:
        rows = block.lines if isinstance(block, Paragraph) else ()
        rows = block.items if isinstance(block, ListBlock) else rows
        found += [span.link for line in rows for span in line if span.link]
    return found


# ---- the environment --------------------------------------------------------------------------


def test_values_are_escaped_so_data_never_becomes_markup():
    html = render_html(
        "kudos",
        person=Person("p", HOSTILE),
        ticket=views.TicketLine(1, HOSTILE, "Tom & Jerry's", None),
    )
    assert "<!channel>" not in html
    assert "<b>x</b>" not in html
    assert "&lt;!channel&gt; hi &amp; &lt;b&gt;x&lt;/b&gt;" in html
    # ... and parsing turns the escapes back into the literal words, as text
    message = kudos_message(
        person=Person("p", "Jane"),
        ticket_id=1,
        summary=HOSTILE,
        company="Tom & Jerry's",
        ticket_url=None,
    )
    assert f"#1 {HOSTILE} (Tom & Jerry's)" in plain(message)
    assert not any(span.bold for b in message.blocks for line in b.lines for span in line)


def test_a_missing_variable_is_an_error_not_an_empty_string():
    with pytest.raises(jinja2.UndefinedError):
        render("kudos", text="x", person=Person("p", "Jane"))


# ---- leaderboard ------------------------------------------------------------------------------


def test_leaderboard_ranks_ties_rules_waiting_and_as_of():
    # a and b tie on 9 (rank 1, 1), c is 3rd with 7; d has 2 of the 5 needed tickets
    c = contest("categorized_pct", period=Period.MONTHLY)
    result = standings(
        c,
        {"a": (90.0, 9), "b": (90.0, 12), "c": (70.0, 6), "d": (100.0, 2)},
    )
    message = leaderboard_message(result, people=people_for("abcd"), caller=None)
    text = lines(message)
    assert text[0] == "Monthly stars — November 2026"
    assert text[1] == (
        "Top 3 win · qualifies with at least 5 resolved tickets · Categorized, higher is better"
    )
    assert text[2:5] == [
        "1. Name a — 90.0% (9 resolved) 🏆",
        "1. Name b — 90.0% (12 resolved) 🏆",
        "3. Name c — 70.0% (6 resolved) 🏆",
    ]
    assert "Not yet qualified: Name d (2/5 resolved)" in text
    assert text[-1] == AS_OF
    assert message.text.startswith("Monthly stars (November 2026): 1. Name a 90.0%")
    # standings never ping anyone: names are plain text even when people have mentions
    assert links(message) == []
    assert not any(isinstance(b, Actions) for b in message.blocks)


def test_leaderboard_shows_the_callers_own_rank_when_outside_the_top():
    # 30 members with values 30..1: member m07 has 7, so rank 30 - 7 + 1 = 24
    c = contest(period=Period.MONTHLY)
    table = {f"m{v:02d}": (float(v), v) for v in range(1, 31)}
    message = leaderboard_message(result := standings(c, table), people={}, caller="m07")
    text = lines(message)
    assert [t.split(" ")[0] for t in text[2:12]] == [f"{r}." for r in range(1, 11)]
    assert "…and 19 more ranked" in text  # 30 - 10 shown - the caller's own line
    assert "Your place: 24. m07 — 7 (7 resolved)" in text
    assert len(result.ranked) == 30
    # inside the top, the caller's line is the one in bold, and no extra line is added
    inside = leaderboard_message(result, people={}, caller="m29")
    bold = [
        s.text for b in inside.blocks for line in getattr(b, "lines", ()) for s in line if s.bold
    ]
    assert bold == ["2. m29 — 29"]
    assert not any(t.startswith("Your place") for t in lines(inside))


def test_leaderboard_caller_not_qualified_or_not_on_the_board():
    c = contest("categorized_pct", period=Period.MONTHLY)
    result = standings(c, {"a": (90.0, 9), "d": (100.0, 2), "e": (None, 6)})
    waiting = lines(leaderboard_message(result, people={}, caller="d"))
    assert "You are not ranked yet (2/5 resolved)." in waiting
    # e has enough tickets but no value (a rate over nothing)
    assert "Not yet qualified: e (no data yet), d (2/5 resolved)" in waiting
    absent = lines(leaderboard_message(result, people={}, caller="zed"))
    assert "You are not on this board yet: resolve a ticket to join." in absent


def test_leaderboard_ties_at_the_cut_are_all_shown():
    # values 20..12 give ranks 1..9; three members tie on 5 at rank 10
    c = contest(period=Period.MONTHLY)
    table = {f"m{v}": (float(v), v) for v in range(12, 21)}
    table |= {"t1": (5.0, 5), "t2": (5.0, 5), "t3": (5.0, 5), "last": (1.0, 1)}
    text = lines(leaderboard_message(standings(c, table), people={}, caller=None))
    tied = [t for t in text if t.startswith("10. ")]
    assert tied == ["10. t1 — 5 (5 resolved)", "10. t2 — 5 (5 resolved)", "10. t3 — 5 (5 resolved)"]
    assert "…and 1 more ranked" in text


def test_leaderboard_cuts_long_lists_with_and_n_more():
    c = contest("categorized_pct", period=Period.MONTHLY)
    table = {f"r{i:03d}": (float(i % 97), 10) for i in range(500)}
    table |= {f"w{i:03d}": (50.0, 1) for i in range(300)}
    message = leaderboard_message(standings(c, table), people={}, caller=None, top=10)
    text = plain(message)
    assert "…and 490 more ranked" in text
    waiting = next(t for t in lines(message) if t.startswith("Not yet qualified"))
    assert waiting.count("(1/5 resolved)") == views.standings.MAX_NOT_QUALIFIED
    assert waiting.endswith("and 275 more")


def test_leaderboard_share_button_and_goal_prize_wording():
    c = contest(
        "categorized_pct", period=Period.MONTHLY, kind=ContestKind.WINNER_TAKES_ALL, goal=90
    )
    result = standings(c, {"a": (95.0, 9)})
    message = leaderboard_message(
        result, people={}, caller=None, shareable=True, share_value="c=1", prize="a team lunch"
    )
    text = lines(message)
    assert text[1].startswith("Winner takes all, if they reach 90.0% · ")
    assert "Prize: a team lunch" in text
    (actions,) = [b for b in message.blocks if isinstance(b, Actions)]
    assert actions.elements == (Button("Share in channel", "leaderboard_share", "c=1", "primary"),)


def test_leaderboard_when_nobody_qualifies():
    c = contest("categorized_pct", period=Period.MONTHLY)
    message = leaderboard_message(standings(c, {"d": (100.0, 2)}), people={}, caller=None)
    assert "Nobody qualifies yet: you need at least 5 resolved." in lines(message)
    assert message.text == "Monthly stars (November 2026): nobody qualifies yet"


# ---- winners ----------------------------------------------------------------------------------


def test_winners_ties_are_rewarded_alike_and_mentioned():
    # places=1: a and b tie for 1st, so both win; c is 3rd and does not
    c = contest(period=Period.MONTHLY, places=1)
    result = standings(c, {"a": (9.0, 9), "b": (9.0, 9), "c": (4.0, 4)})
    message = winners_message(result, people=people_for("abc"))
    text = lines(message)
    assert text[0] == "🏆 Monthly stars — November 2026"
    assert text[1] == "Congratulations to Name a and Name b! 🎉"
    assert text[2:4] == [
        "🏆 1st (tie): Name a — 9 (9 resolved)",
        "🏆 1st (tie): Name b — 9 (9 resolved)",
    ]
    assert "Name c" not in plain(message)
    assert links(message) == ["mention:UA", "mention:UB"]
    assert message.text == "Monthly stars (November 2026) winners: Name a and Name b"


def test_no_winner_says_why():
    c = contest("categorized_pct", period=Period.MONTHLY, kind=ContestKind.ONE_GOAL, goal=90)
    missed = winners_message(standings(c, {"a": (80.0, 9), "b": (85.0, 9)}), people={})
    assert "No winner this time. Nobody reached the goal of 90.0%." in lines(missed)
    assert "Closest: b — 85.0%" in lines(missed)
    nobody = winners_message(standings(c, {"a": (80.0, 1)}), people={})
    assert "No winner this time. Nobody qualified." in lines(nobody)
    assert nobody.text == "Monthly stars (November 2026): no winner this time"


def test_multi_goal_winners_show_their_tier():
    c = contest(
        "categorized_pct", period=Period.MONTHLY, kind=ContestKind.MULTI_GOAL, goals=(80, 90)
    )
    message = winners_message(standings(c, {"a": (92.0, 9), "b": (85.0, 9)}), people={})
    assert "🏆 a — 92.0% · tier 90.0% (9 resolved)" in lines(message)
    assert "🏆 b — 85.0% · tier 80.0% (9 resolved)" in lines(message)


# ---- kudos ------------------------------------------------------------------------------------


def test_kudos_names_the_technician_and_the_ticket():
    message = kudos_message(
        person=Person("jane", "Jane Smith", "<@U1>"),  # the <@..> form is accepted
        ticket_id=123,
        summary="Printer on fire",
        company="Acme",
        ticket_url="https://cw.example/123",
    )
    assert plain(message) == (
        "🎉 Kudos to Jane Smith for resolving #123 Printer on fire (Acme) without escalation!"
    )
    assert links(message) == ["mention:U1", "https://cw.example/123"]
    assert message.text == "Kudos to Jane Smith for resolving #123 without escalation"


def test_kudos_digest_groups_by_technician_and_cuts():
    jane, bob = Person("jane", "Jane", "U1"), Person("bob", "Bob")
    items = [KudosItem(jane, i, f"ticket {i}", "Acme") for i in range(7)]
    items.append(KudosItem(bob, 99, "Mouse", "Tom & Jerry's", "https://cw.example/99"))
    text = lines(kudos_digest_message(items, day=date(2026, 11, 18)))
    assert text[0] == "🎉 Kudos — Wed 18 Nov 2026"
    # Jane has most tickets, so she comes first; 5 are listed and 2 counted
    assert text[1:8] == [
        "Jane: 7 resolved without escalation",
        "• #0 ticket 0 (Acme)",
        "• #1 ticket 1 (Acme)",
        "• #2 ticket 2 (Acme)",
        "• #3 ticket 3 (Acme)",
        "• #4 ticket 4 (Acme)",
        "…and 2 more",
    ]
    assert text[8:] == ["Bob: 1 resolved without escalation", "• #99 Mouse (Tom & Jerry's)"]


def test_kudos_digest_of_many_technicians_counts_the_rest():
    # 40 technicians with one ticket each: 25 fit, 15 tickets by 15 technicians are counted
    items = [KudosItem(Person(f"p{i:02d}", f"P{i:02d}"), i, "t", "c") for i in range(40)]
    message = kudos_digest_message(items, day=date(2026, 11, 18))
    assert plain(message).count("resolved without escalation") == 25
    assert "…and 15 more tickets by 15 more technicians. Well done, everyone!" in lines(message)
    assert message.text == "Kudos for Wed 18 Nov 2026: 40 tickets resolved without escalation"


# ---- nudges -----------------------------------------------------------------------------------


TYPES = (Option("Hardware", "1"), Option("Software", "2"))


def nudge(ticket_id: int, reasons: tuple[str, ...], **fields) -> NudgeItem:
    return NudgeItem(ticket_id, f"Summary {ticket_id}", "Acme", reasons, **fields)


def test_nudge_digest_offers_the_fix_for_each_reason():
    items = [
        nudge(
            1, ("uncategorized",), type_options=TYPES, current_type="2", ticket_url="https://x/1"
        ),
        nudge(2, ("no_agreement",), agreement_options=(Option("Gold", "7"),)),
        nudge(3, ("catchall",)),
    ]
    message = nudge_digest_message(person=Person("jane", "Jane", "U1"), items=items)
    text = lines(message)
    assert text[0].startswith("Hi Jane, 3 tickets you resolved could use a quick fix.")
    assert text[1:3] == ["#1 Summary 1 (Acme)", "Missing: no type, subtype and item"]
    actions = {b.block_id: b for b in message.blocks if isinstance(b, Actions)}
    assert list(actions) == ["nudge:1", "nudge:2", "nudge:3"]
    assert nudge_ticket_ids(message) == [1, 2, 3]

    def controls(block_id: str) -> list[str]:
        return [e.action for e in actions[block_id].elements]

    assert controls("nudge:1") == [
        "nudge_type",
        "nudge_subtype",
        "nudge_item",
        "nudge_save",
        "nudge_dismiss",
    ]
    assert controls("nudge:2") == ["nudge_agreement", "nudge_save", "nudge_dismiss"]
    assert controls("nudge:3") == [
        "nudge_company",
        "nudge_agreement",
        "nudge_save",
        "nudge_dismiss",
    ]
    type_select, subtype_select = actions["nudge:1"].elements[:2]
    # the board's types are small enough to draw inline, with the ticket's current one chosen
    assert type_select == Select("nudge_type", "Type", TYPES, "2", external=False)
    # subtypes depend on the type: no options given, so they load on demand
    assert isinstance(subtype_select, Select)
    assert subtype_select.external
    company = actions["nudge:3"].elements[0]
    assert isinstance(company, Select)
    assert company.external
    save, dismiss = actions["nudge:2"].elements[-2:]
    assert save == Button("Save", "nudge_save", "2", "primary")
    assert dismiss == Button("Not needed", "nudge_dismiss", "2", None)
    assert message.text == "3 tickets you resolved could use a quick fix"


def test_nudge_digest_of_300_tickets_shows_what_fits_and_counts_the_rest():
    many = tuple(Option(f"Type {i}", str(i)) for i in range(200))
    items = [nudge(i, ("uncategorized", "catchall"), type_options=many) for i in range(300)]
    message = nudge_digest_message(person=Person("jane", "Jane"), items=items)
    shown = nudge_ticket_ids(message)
    assert 1 <= len(shown) <= views.NUDGE_DIGEST_MAX
    assert shown == list(range(len(shown)))  # in the order given
    assert lines(message)[-1] == f"…and {300 - len(shown)} more tickets: see /mystats"
    selects = [e for b in message.blocks if isinstance(b, Actions) for e in b.elements]
    # 200 options are more than any select may hold inline: they load on demand
    assert all(e.external for e in selects if isinstance(e, Select))


def test_selects_loading_on_demand_carry_their_options_but_slack_draws_the_same():
    """A select Slack loads on demand still carries its options (at most 100, the current one
    among them) for Teams, which cannot load them; Slack's blocks and the digest's size
    estimate (sized for Slack) see only the current one, as before."""
    many = tuple(Option(f"Type {i}", str(i)) for i in range(150))
    companies = tuple(Option(f"Company {i}", str(1000 + i)) for i in range(25))
    item = nudge(
        1,
        ("uncategorized", "catchall"),
        type_options=many,
        current_type="120",
        company_options=companies,
    )
    message = nudge_digest_message(person=Person("jane", "Jane"), items=[item])
    (actions,) = [b for b in message.blocks if isinstance(b, Actions)]
    type_select, subtype, item_select, company, agreement = actions.elements[:5]
    assert isinstance(type_select, Select)
    assert type_select.external  # more than 100 options
    assert len(type_select.options) == 100
    assert type_select.options[-1] == Option("Type 120", "120")
    assert type_select.initial == "120"
    # the company short list rides along, but the company select always searches in Slack
    assert company == Select("nudge_company", "Company", companies, None, external=True)
    blocks = [b for b in to_slack(message)[1] if b.get("block_id") == "nudge:1"]
    (elements,) = [b["elements"] for b in blocks]
    assert [e["type"] for e in elements[:5]] == ["external_select"] * 5
    assert all("options" not in e for e in elements[:5])
    assert elements[0]["initial_option"]["value"] == "120"
    # selects with nothing to offer yet say why
    assert (subtype.placeholder, item_select.placeholder, agreement.placeholder) == (
        "Subtype: none",
        "Item: none",
        "Agreement: pick the company first",
    )
    # carrying options costs Slack's estimate nothing: as many tickets fit either way
    light = [nudge(i, ("uncategorized", "catchall")) for i in range(300)]
    heavy = [replace(n, type_options=many, company_options=companies) for n in light]
    assert len(nudge_ticket_ids(nudge_digest_message(person=Person("j", "J"), items=heavy))) == (
        len(nudge_ticket_ids(nudge_digest_message(person=Person("j", "J"), items=light)))
    )


@pytest.mark.parametrize(
    ("fields", "placeholders"),
    [
        ({}, ("Type: none on this board", "Subtype: pick a type first", "Item: pick a type first")),
        (
            {"type_options": TYPES},
            ("Type", "Subtype: pick a type first", "Item: pick a type first"),
        ),
        (
            {"type_options": TYPES, "current_type": "1", "subtype_options": TYPES},
            ("Type", "Subtype", "Item: pick a subtype first"),
        ),
        (
            {"type_options": TYPES, "current_type": "1", "item_options": TYPES},
            ("Type", "Subtype: none", "Item"),
        ),
    ],
)
def test_a_select_with_nothing_to_offer_yet_says_why(fields, placeholders):
    message = nudge_ticket_message(nudge(1, ("uncategorized", "no_agreement"), **fields))
    (actions,) = [b for b in message.blocks if isinstance(b, Actions)]
    selects = [e for e in actions.elements if isinstance(e, Select)]
    assert tuple(s.placeholder for s in selects[:3]) == placeholders
    assert selects[3].placeholder == "Agreement: the company has none in ConnectWise"


def test_nudge_digest_takes_at_most_the_maximum_even_when_small():
    items = [nudge(i, ("no_agreement",)) for i in range(40)]
    message = nudge_digest_message(person=Person("jane", "Jane"), items=items)
    assert nudge_ticket_ids(message) == list(range(views.NUDGE_DIGEST_MAX))
    assert f"…and {40 - views.NUDGE_DIGEST_MAX} more tickets: see /mystats" in lines(message)


def test_one_ticket_redrawn_with_its_new_options():
    subtypes = (Option("Laptop", "11"), Option("Printer", "12"))
    message = nudge_ticket_message(
        nudge(5, ("uncategorized",), type_options=TYPES, current_type="1", subtype_options=subtypes)
    )
    assert plain(message).startswith("#5 Summary 5 (Acme)")
    assert "Hi " not in plain(message)
    (actions,) = [b for b in message.blocks if isinstance(b, Actions)]
    assert actions.block_id == "nudge:5"
    assert actions.elements[1] == Select("nudge_subtype", "Subtype", subtypes, None, False)


def test_nudge_done_replaces_the_ticket_part():
    fixed = nudge_done_message(
        ticket_id=5,
        summary=HOSTILE,
        changes=["Type / subtype / item: Hardware / Laptop / Screen", "Agreement: Gold"],
        by=Person("jane", "Jane"),
    )
    assert lines(fixed) == [
        f"✅ #5 {HOSTILE}: fixed by Jane.",
        "Type / subtype / item: Hardware / Laptop / Screen; Agreement: Gold",
    ]
    dismissed = nudge_done_message(
        ticket_id=5, summary="x", changes=[], by=Person("jane", "Jane"), dismissed=True
    )
    assert plain(dismissed) == "✅ #5 x: marked as not needed by Jane."


# ---- personal ---------------------------------------------------------------------------------


def test_mystats_numbers_ranks_and_tickets_to_fix():
    c = contest(period=Period.MONTHLY)
    result = standings(c, {"jane": (12.0, 12), "bob": (14.0, 14)})
    rows = stat_rows(
        [METRICS_BY_KEY["resolved"], METRICS_BY_KEY["categorized_pct"]],
        {"resolved": 12.0, "categorized_pct": 91.25},
    )
    assert rows[1] == StatRow("Categorized", 91.25, "%", Direction.HIGHER)
    rank = rank_row(result, "jane")
    assert rank is not None
    assert (rank.rank, rank.ranked, rank.wins) == (2, 2, True)
    drags = [
        DragTicket(i, f"Drag {i}", "Catchall", ("catchall", "no_agreement"), f"https://x/{i}")
        for i in range(20)
    ]
    message = mystats_message(
        person=Person("jane", "Jane"),
        window_label="November 2026",
        rows=rows,
        ranks=[rank],
        drags=drags,
        as_of=NOW,
        tz=TZ,
    )
    text = lines(message)
    assert text[:3] == ["Jane — November 2026", "Resolved: 12", "Categorized: 91.2%"]
    assert "🏆 Monthly stars (November 2026): 2nd of 2 · 12" in text
    assert "#0 Drag 0 (Catchall): filed under the catch-all company, no agreement" in text
    assert "…and 5 more tickets to fix" in text  # 20 - 15 listed
    assert links(message)[:2] == ["https://x/0", "https://x/1"]
    assert text[-1] == AS_OF


def test_rank_row_of_someone_not_qualified_or_absent():
    c = contest("categorized_pct", period=Period.MONTHLY)
    result = standings(c, {"jane": (90.0, 2)})
    row = rank_row(result, "jane")
    assert row is not None
    assert row.rank is None
    assert (row.resolved, row.min_resolved) == (2, 5)
    assert rank_row(result, "nobody") is None


def test_home_view_with_and_without_a_linked_viewer():
    c = contest(period=Period.MONTHLY)
    result = standings(c, {"a": (9.0, 9), "b": (7.0, 7), "jane": (3.0, 3), "z": (1.0, 1)})
    jane = Person("jane", "Jane")
    rows = [StatRow("Resolved", 3.0, "#", Direction.HIGHER)]
    home = home_view(
        viewer=jane,
        window_label="November 2026",
        rows=rows,
        contests=[result],
        people=people_for(["a", "b", "jane", "z"], mention=False),
        as_of=NOW,
        tz=TZ,
    )
    text = lines(home)
    assert "Resolved: 3" in text
    assert "Monthly stars — November 2026: Resolved, Top 3 win" in text
    assert "1. Name a 9 · 2. Name b 7 · 3. Name jane 3" in text
    assert "You: 3rd of 4 · 3" in text
    unlinked = plain(
        home_view(viewer=None, window_label="x", rows=[], contests=[], people={}, as_of=None, tz=TZ)
    )
    assert "not linked to a ConnectWise member" in unlinked
    assert "No contests are running." in unlinked
    assert "No data synced yet" in unlinked


# ---- commands ---------------------------------------------------------------------------------


def test_usage_help_status_and_contests():
    usage = usage_message(
        command="/leaderboard", problem="unknown period 'fortnight'", usage="/leaderboard [period]"
    )
    assert lines(usage)[:2] == ["⚠️ unknown period 'fortnight'", "Usage: /leaderboard [period]"]
    assert usage.text == "unknown period 'fortnight'"

    member, admin = plain(help_message(is_admin=False)), plain(help_message(is_admin=True))
    assert "/mystats [period]" in member
    assert "/deskboard sync" not in member
    assert "/deskboard sync" in admin
    assert "/deskboard link @user IDENTIFIER" in admin

    state = SyncStateView(
        watermark=NOW,
        last_sync_finished_at=NOW,
        last_error=HOSTILE,
        last_error_at=datetime(2026, 11, 18, 10, 0, tzinfo=UTC),
    )
    status = lines(status_message(state=state, tickets=1200, pending_outbox=3, tz=TZ))
    assert f"⚠️ The latest sync failed (Wed 18 Nov 2026 11:00 CET): {HOSTILE}" in status
    assert "Last successful sync: Wed 18 Nov 2026 10:30 CET" in status
    assert "Tickets stored: 1200" in status
    assert "Messages waiting to be sent: 3" in status

    fixed = Contest(
        "Fixed",
        parse_metric_ref("resolved", frozenset()),
        start=date(2026, 11, 1),
        end=date(2026, 12, 1),
    )
    listing = lines(
        contests_message(
            [contest(period=Period.WEEKLY), fixed],
            tz=TZ,
            now=NOW,
            posting={"Fixed": ("#desk", "0 9 * * 1")},
        )
    )
    assert "Monthly stars: Resolved, weekly, now Week of 16 Nov 2026" in listing
    assert "Fixed: Resolved, Sun 1 Nov 2026 to Mon 30 Nov 2026" in listing  # end is exclusive
    assert "posts to #desk at 0 9 * * 1" in listing
    assert "No contests are configured" in plain(contests_message([], tz=TZ))


# ---- small pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (22, "22nd")]
)
def test_ordinal(number, text):
    assert ordinal(number) == text


def test_values_carry_their_unit():
    assert format_measure(12.0, "pts") == "12 pts"
    assert format_measure(2.5, "#/day") == "2.50/day"
    assert format_measure(92.25, "%") == "92.2%"  # banker's rounding of the 5 in .25
    assert format_measure(None, "%") == "—"


def test_person_mentions_are_user_ids():
    assert Person("k", "Jane", "<@U123>").mention == "U123"
    assert Person("k", "Jane", "<@U123|jane>").mention == "U123"
    assert Person("k", "Jane", "").mention is None
    assert Person("k", "x" * 500).display == "x" * 59 + "…"
