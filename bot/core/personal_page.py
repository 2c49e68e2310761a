"""A technician's own page (README "The wallboard", ``/me/<token>``): their numbers this
month beside the two months before, each with its trend over the last ``TREND_MONTHS``
months, their place in each contest, and the tickets dragging a metric down, with links.
Reached from ``/mystats`` by a personal link that expires after ``LINK_DAYS`` (or, in Teams,
the personal tab, ``bot.core.teams_tab``); it shows only that technician's data.

The link's token is ``bot.core.personal_links``'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bot.chat.formatting import format_measure, format_moment
from bot.chat.views import REASON_TEXT, rank_row
from bot.config import DeskboardConfig
from bot.core.command_standings import drag_tickets
from bot.core.links import TicketLink
from bot.core.people import people_directory
from bot.core.personal_links import PageRefused, member_of, personal_token
from bot.core.reports import metrics_from_database, standings_for_window
from metrics.windows import Period, period_window

TABLE_MONTHS = 3
TREND_MONTHS = 6


def personal_page(
    engine: Engine,
    config: DeskboardConfig,
    *,
    member: str,
    now: datetime,
    ticket_link: TicketLink,
) -> dict[str, Any]:
    """Everything the page shows, for ``member`` only."""
    tz, week_start = config.tz, config.week_start_day
    months = [
        period_window(Period.MONTHLY, now=now, tz=tz, week_start=week_start, offset=-i)
        for i in range(TREND_MONTHS)
    ]
    reports = [
        metrics_from_database(engine, config=config, window=w, basis=config.metrics.time_basis)
        for w in months
    ]
    rows = []
    for metric in reports[0].metrics:
        values: list[float | None] = []
        for report in reports:
            own = report.members.get(member)
            values.append(own.values.get(metric.key) if own is not None else None)
        oldest_first = values[::-1]
        rows.append(
            {
                "label": metric.label,
                "values": [format_measure(v, metric.unit) for v in values[:TABLE_MONTHS]],
                "trend": oldest_first,
                "trend_text": ", ".join(
                    f"{w.label()} {format_measure(v, metric.unit)}"
                    for w, v in zip(months[::-1], oldest_first, strict=True)
                ),
            }
        )
    ranks = []
    for contest in config.contest_list():
        window = contest.window(now=now, tz=tz, week_start=week_start)
        standings = standings_for_window(engine, config=config, contest=contest, window=window)
        row = rank_row(standings, member)
        if row is not None:
            place = f"#{row.rank} of {row.ranked}" if row.rank is not None else "not qualified yet"
            ranks.append(
                {
                    "contest": contest.name,
                    "window": row.window_label,
                    "place": place,
                    "value": format_measure(row.value, row.unit),
                }
            )
    drags = drag_tickets(engine, member=member, window=months[0], ticket_link=ticket_link)
    person = people_directory(engine, platform="page").person(member, viewer=member)
    as_of = reports[0].data_as_of
    return {
        "name": person.display,
        "months": [w.label() for w in months[:TABLE_MONTHS]],
        "trend_months": f"{months[-1].label()} to {months[0].label()}",
        "rows": rows,
        "ranks": ranks,
        "drags": [
            {
                "ticket": d.ticket_id,
                "summary": d.summary,
                "company": d.company,
                "reasons": ", ".join(REASON_TEXT.get(r, r) for r in d.reasons),
                "url": d.ticket_url if d.ticket_url and d.ticket_url.startswith("http") else None,
            }
            for d in drags
        ],
        "as_of": "No data synced yet"
        if as_of is None
        else f"Data as of {format_moment(as_of, tz)}",
    }


__all__ = ["PageRefused", "member_of", "personal_page", "personal_token"]
