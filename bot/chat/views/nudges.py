"""Nudge DMs: resolved tickets to fix, with the fix in place, and the "done" line after."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.chat.message import Actions, Message, Option
from bot.chat.render import render
from bot.chat.views.common import (
    SHORT_SUMMARY_CHARS,
    Person,
    TicketLine,
    plural,
    shorten,
    ticket_line,
    unmentioned,
)

MAX_STATIC_OPTIONS = 100  # a select with more options always loads them on demand


@dataclass(frozen=True, slots=True)
class NudgeItem:
    """One resolved ticket to fix. ``reasons`` are ``NudgeReason`` values. Options are the
    board's valid choices (values are ConnectWise ids as text); an empty tuple means there is
    nothing to offer yet (e.g. subtypes before a type is chosen). ``current_*`` are option
    values already set on the ticket. ``company_options`` is a short list (the companies most
    tickets are for), not every company: the company select always searches on demand where
    the platform can (Slack), and offers the short list where it cannot (Teams)."""

    ticket_id: int
    summary: str
    company: str
    reasons: tuple[str, ...]
    ticket_url: str | None = None
    type_options: tuple[Option, ...] = ()
    subtype_options: tuple[Option, ...] = ()
    item_options: tuple[Option, ...] = ()
    current_type: str | None = None
    current_subtype: str | None = None
    current_item: str | None = None
    needs_company: bool = False
    agreement_options: tuple[Option, ...] = ()
    current_agreement: str | None = None
    company_options: tuple[Option, ...] = ()


@dataclass(frozen=True, slots=True)
class SelectView:
    action: str
    placeholder: str
    options: tuple[Option, ...]
    selected: str | None
    external: bool


@dataclass(frozen=True, slots=True)
class NudgeView:
    ticket: TicketLine
    selects: tuple[SelectView, ...]


# A nudge digest carries a paragraph and a row of controls per ticket, and controls are large
# on the wire (Slack: about 1,000 characters of JSON for five selects and two buttons; one
# option about 60 more). The digest takes tickets in order while an estimate of its size stays
# under ``NUDGE_DIGEST_SIZE``, with every select loading its options on demand; what budget is
# left then draws options inline, first ticket first. The estimate is sized for Slack (the
# tightest platform: about 12,000 characters) and errs on the large side: it counts the growth
# of mrkdwn escaping, so summaries full of ``&`` and ``<`` still fit.
#
# A select that loads its options on demand still carries them (at most
# ``MAX_STATIC_OPTIONS``, the current one among them): Slack draws only the current one (an
# ``external_select``) and asks for the rest as the user types, so the estimate counts only
# that; a platform that cannot load options on demand (Teams, schema 1.5) draws them all.

NUDGE_DIGEST_MAX = 15  # tickets with fix controls in one digest; the rest wait for the next

NUDGE_DIGEST_SIZE = 10_000  # estimated characters one digest may take on the wire

NUDGE_TICKET_OPTIONS_SIZE = 1_500  # inline options one ticket's re-drawn part may add

_PARAGRAPH_COST = 100  # a section's JSON around its text, the link and the "Missing:" words

_ACTIONS_COST = 330  # the actions block, its id and the Save and Not needed buttons

_SELECT_COST = 135  # one select without options

_OPTION_COST = 52  # one option's JSON around its text and value

_FRAME_COST = 600  # the greeting and the "and N more" line


def _wire_len(text: str) -> int:
    """``text``'s length once escaped for Slack mrkdwn (``&amp;``, ``&lt;``, ``&gt;``) and
    written as a JSON string (quotes and backslashes doubled)."""
    markup = 4 * text.count("&") + 3 * (text.count("<") + text.count(">"))
    return len(text) + markup + text.count('"') + text.count("\\")


def _options_cost(options: Sequence[Option]) -> int:
    return sum(_OPTION_COST + _wire_len(o.text) + len(o.value) for o in options)


def _select_cost(select: SelectView) -> int:
    # A static select draws its current choice twice: in its options and as the initial one;
    # Slack draws an external one with its current choice only.
    chosen = [o for o in select.options if o.value == select.selected]
    if select.external:
        return _SELECT_COST + _options_cost(chosen)
    return _SELECT_COST + _options_cost(select.options) + _options_cost(chosen)


def _ticket_cost(ticket: TicketLine, selects: Sequence[SelectView]) -> int:
    texts = (ticket.summary, ticket.company, ticket.url or "", ticket.missing)
    return (
        _PARAGRAPH_COST
        + sum(_wire_len(t) for t in texts)
        + _ACTIONS_COST
        + sum(_select_cost(s) for s in selects)
    )


def _select(
    action: str, placeholder: str, options: tuple[Option, ...], selected: str | None
) -> SelectView:
    """A select loading its options on demand that shows the current choice and carries its
    options (the first ``MAX_STATIC_OPTIONS``, and the current one); they are drawn inline
    later if the budget allows (``_inline``)."""
    current = tuple(o for o in options if o.value == selected)[:1]
    carried = options[:MAX_STATIC_OPTIONS]
    if current and current[0] not in carried:
        carried = (*options[: MAX_STATIC_OPTIONS - 1], current[0])
    return SelectView(action, placeholder, carried, selected if current else None, external=True)


def _inline(select: SelectView, options: tuple[Option, ...]) -> SelectView:
    return SelectView(select.action, select.placeholder, options, select.selected, external=False)


@dataclass(frozen=True, slots=True)
class _Fix:
    """One ticket's controls: the views drawn, and the options each select could show."""

    ticket: TicketLine
    selects: tuple[SelectView, ...]
    options: tuple[tuple[Option, ...], ...]


def _placeholders(item: NudgeItem, company: bool) -> dict[str, str]:
    """Each select's placeholder; one with nothing to offer yet says why (a platform that
    cannot load options on demand shows just that)."""
    placeholders = {
        "nudge_type": "Type",
        "nudge_subtype": "Subtype",
        "nudge_item": "Item",
        "nudge_company": "Company",
        "nudge_agreement": "Agreement",
    }
    if not item.type_options:
        placeholders["nudge_type"] = "Type: none on this board"
    if not item.subtype_options:
        placeholders["nudge_subtype"] = (
            "Subtype: pick a type first" if item.current_type is None else "Subtype: none"
        )
    if not item.item_options:
        if item.current_type is None:
            placeholders["nudge_item"] = "Item: pick a type first"
        elif item.subtype_options and item.current_subtype is None:
            placeholders["nudge_item"] = "Item: pick a subtype first"
        else:
            placeholders["nudge_item"] = "Item: none"
    if not item.agreement_options:
        placeholders["nudge_agreement"] = (
            "Agreement: pick the company first"
            if company
            else "Agreement: the company has none in ConnectWise"
        )
    return placeholders


def _fix(item: NudgeItem) -> _Fix:
    """The selects a ticket needs for its reasons, all loading on demand at first. The company
    select carries the short list but is never drawn inline: on demand, every company can be
    found (``_Fix.options`` is what a select may draw inline)."""
    wanted: list[tuple[str, tuple[Option, ...], str | None]] = []
    if "uncategorized" in item.reasons:
        wanted += [
            ("nudge_type", item.type_options, item.current_type),
            ("nudge_subtype", item.subtype_options, item.current_subtype),
            ("nudge_item", item.item_options, item.current_item),
        ]
    company = item.needs_company or "catchall" in item.reasons
    if company:
        wanted.append(("nudge_company", item.company_options, None))
    if company or "no_agreement" in item.reasons:
        wanted.append(("nudge_agreement", item.agreement_options, item.current_agreement))
    placeholders = _placeholders(item, company)
    ticket = ticket_line(
        item.ticket_id,
        item.summary,
        item.company,
        item.ticket_url,
        summary_chars=SHORT_SUMMARY_CHARS,
        reasons=item.reasons,
    )
    return _Fix(
        ticket,
        tuple(
            _select(action, placeholders[action], options, chosen)
            for action, options, chosen in wanted
        ),
        tuple(() if action == "nudge_company" else options for action, options, _ in wanted),
    )


def _with_inline_options(fix: _Fix, budget: int) -> tuple[_Fix, int]:
    """``fix`` with as many selects drawn inline as ``budget`` characters allow."""
    selects: list[SelectView] = []
    for select, options in zip(fix.selects, fix.options, strict=True):
        if 0 < len(options) <= MAX_STATIC_OPTIONS:
            inline = _inline(select, options)
            extra = _select_cost(inline) - _select_cost(select)
            if extra <= budget:
                selects.append(inline)
                budget -= extra
                continue
        selects.append(select)
    return _Fix(fix.ticket, tuple(selects), fix.options), budget


def _plan_digest(items: Sequence[NudgeItem]) -> list[_Fix]:
    fixes: list[_Fix] = []
    size = _FRAME_COST
    for item in items[:NUDGE_DIGEST_MAX]:
        fix = _fix(item)
        cost = _ticket_cost(fix.ticket, fix.selects)
        if size + cost > NUDGE_DIGEST_SIZE:
            break
        fixes.append(fix)
        size += cost
    budget = NUDGE_DIGEST_SIZE - size
    planned: list[_Fix] = []
    for fix in fixes:
        with_options, budget = _with_inline_options(fix, budget)
        planned.append(with_options)
    return planned


def nudge_digest_message(*, person: Person, items: Sequence[NudgeItem]) -> Message:
    """A technician's daily DM: each ticket to fix with the fix in place (selects for what is
    missing, Save, Not needed), in the order given. It holds as many tickets as fit (at most
    ``NUDGE_DIGEST_MAX``); the rest are counted ("and N more tickets") and can wait for the
    next digest: ``nudge_ticket_ids(message)`` tells which tickets it shows.
    """
    plan = _plan_digest(items)
    count = plural(len(items), "ticket")
    return render(
        "nudge_digest",
        text=f"{count} you resolved could use a quick fix",
        person=unmentioned(person),
        count=count,
        tickets=[NudgeView(fix.ticket, fix.selects) for fix in plan],
        more=len(items) - len(plan),
    )


def nudge_ticket_message(item: NudgeItem) -> Message:
    """One ticket's part of a nudge digest: its paragraph and controls, with options inline
    as far as they fit in ``NUDGE_TICKET_OPTIONS_SIZE``. It replaces that part of the DM after
    a choice changes the valid options; the digest keeps that much room free for it."""
    fix, _ = _with_inline_options(_fix(item), NUDGE_TICKET_OPTIONS_SIZE)
    return render(
        "nudge_digest",
        text=f"#{item.ticket_id} could use a quick fix",
        person=None,
        count="",
        tickets=[NudgeView(fix.ticket, fix.selects)],
        more=0,
    )


NUDGE_BLOCK_PREFIX = "nudge:"


def nudge_ticket_ids(message: Message) -> list[int]:
    """The tickets a nudge message shows controls for (its ``nudge:ID`` action blocks)."""
    return [
        int(block.block_id.removeprefix(NUDGE_BLOCK_PREFIX))
        for block in message.blocks
        if isinstance(block, Actions)
        and block.block_id is not None
        and block.block_id.startswith(NUDGE_BLOCK_PREFIX)
    ]


def nudge_done_message(
    *,
    ticket_id: int,
    summary: str,
    changes: Sequence[str],
    by: Person,
    dismissed: bool = False,
) -> Message:
    """What replaces a ticket's part of the nudge DM once it is fixed (or marked not needed)."""
    ticket = ticket_line(ticket_id, summary, "", None, summary_chars=SHORT_SUMMARY_CHARS)
    done = "marked as not needed" if dismissed else "fixed"
    return render(
        "nudge_done",
        text=f"#{ticket_id} {done} by {by.display}",
        ticket=ticket,
        dismissed=dismissed,
        changes=[shorten(c, 200) for c in changes[:10]],
        more_changes=max(0, len(changes) - 10),
        by=by,
    )
