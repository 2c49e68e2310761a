"""Terminal rendering (Rich) of metric reports, standings, kudos and nudges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from bot.chat.formatting import as_of_text, format_value
from bot.core.alerts import RuleAlerts
from bot.core.reports import MetricsReport
from metrics.contests import ContestKind
from metrics.definitions import MetricDef
from metrics.standings import Standings

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Ticket completeness",
        (
            "resolved",
            "categorized_pct",
            "type_categorized",
            "subtype_categorized",
            "item_categorized",
            "no_agreement_resolved",
            "catchall_resolved",
        ),
    ),
    ("SLA", ("resolved", "avg_response_minutes", "avg_resolution_hours")),
    (
        "Escalation",
        ("escalated_resolved", "resolved_without_escalation", "pct_without_escalation"),
    ),
    (
        "Beyond",
        ("reopened", "avg_handle_hours", "tickets_per_day", "backlog", "first_contact_pct"),
    ),
    (
        "Conversation",
        ("avg_reply_minutes", "responses_per_ticket", "responses_to_close", "follow_up_pct"),
    ),
    (
        "Customer satisfaction",
        ("csat_pct", "net_csat", "csat_responses", "csat_negative", "csat_response_rate"),
    ),
)


SHORT_LABELS: dict[str, str] = {
    "resolved": "Resolved",
    "categorized_pct": "Categ.",
    "type_categorized": "Type",
    "subtype_categorized": "Subtype",
    "item_categorized": "Item",
    "no_agreement_resolved": "No agr.",
    "catchall_resolved": "Catchall",
    "avg_response_minutes": "Avg response",
    "avg_resolution_hours": "Avg resolution",
    "escalated_resolved": "Took escalation",
    "resolved_without_escalation": "Solo",
    "pct_without_escalation": "Solo %",
    "reopened": "Reopened",
    "avg_handle_hours": "Avg handle",
    "tickets_per_day": "Per day",
    "backlog": "Backlog",
    "first_contact_pct": "First contact",
    "avg_reply_minutes": "Avg reply",
    "responses_per_ticket": "Per ticket",
    "responses_to_close": "To close",
    "follow_up_pct": "Follow-up",
    "csat_pct": "CSAT",
    "net_csat": "Net CSAT",
    "csat_responses": "Ratings",
    "csat_negative": "Negative",
    "csat_response_rate": "Rated %",
}
"""Column headings for the terminal, where 80 columns must hold a whole group."""


def metrics_tables(report: MetricsReport, names: Mapping[str, str]) -> Group:
    by_key: dict[str, MetricDef] = {m.key: m for m in report.metrics}
    tables = []
    for title, keys in GROUPS:
        shown = [by_key[k] for k in keys if k in by_key]
        if not shown:
            continue
        table = Table(title=title, title_justify="left", expand=False)
        table.add_column("Technician", no_wrap=True)
        for metric in shown:
            arrow = "↑" if metric.direction == "higher" else "↓"
            label = SHORT_LABELS.get(metric.key, metric.label)
            table.add_column(f"{label} {arrow}", justify="right", no_wrap=True)
        for key, values in sorted(report.members.items()):
            row = [format_value(values.values.get(m.key), m.unit) for m in shown]
            table.add_row(escape(names.get(key, key)), *row)
        tables.append(table)
    return Group(*tables)


def print_metrics(console: Console, report: MetricsReport, names: Mapping[str, str]) -> None:
    tz = ZoneInfo(report.timezone)
    console.print(
        f"[bold]{escape(report.window.label())}[/] "
        f"({report.window.start:%Y-%m-%d %H:%M %Z} → {report.window.end:%Y-%m-%d %H:%M %Z}), "
        f"time basis: {report.basis.value}, {as_of_text(report.data_as_of, tz)}"
    )
    if not report.members:
        console.print("No technician resolved or responded to a ticket in this window.")
        return
    console.print(metrics_tables(report, names))
    if report.skipped:
        console.print(f"[yellow]{len(report.skipped)} unreadable ticket(s) skipped:[/]")
        for s in report.skipped[:10]:
            console.print(
                f"  ticket {escape(str(s.ticket_id))}: {escape(s.field)}: {escape(s.reason)}"
            )


def _rule_text(standings: Standings) -> str:
    c = standings.contest
    kind = {
        ContestKind.PLACES: f"top {c.places} win",
        ContestKind.WINNER_TAKES_ALL: "winner takes all",
        ContestKind.ONE_GOAL: "everyone who reaches the goal wins",
        ContestKind.MULTI_GOAL: "reach a goal tier",
    }[c.kind]
    goal = ""
    if c.goal is not None:
        goal = f", goal {format_value(c.goal, c.unit)}"
    if c.goals:
        goal = ", goals " + " / ".join(format_value(g, c.unit) for g in c.goals)
    return (
        f"{kind}{goal}; qualifies with at least {c.effective_min_resolved} "
        f"{c.qualifying_noun}; "
        f"{'higher' if c.direction == 'higher' else 'lower'} is better"
    )


def standings_panel(standings: Standings, names: Mapping[str, str], tz: ZoneInfo) -> Panel:
    c = standings.contest
    table = Table(expand=False)
    table.add_column("#", justify="right")
    table.add_column("Technician", no_wrap=True)
    table.add_column(c.label, justify="right")
    table.add_column(c.qualifying_noun.capitalize(), justify="right")
    table.add_column("")
    for s in standings.ranked:
        mark = "🏆" if s.wins else ""
        if s.tier is not None:
            mark = f"{mark} tier {format_value(s.tier, c.unit)}".strip()
        table.add_row(
            str(s.rank),
            escape(names.get(s.member, s.member)),
            format_value(s.value, c.unit),
            str(s.qualifying),
            mark,
        )
    parts: list[RenderableType] = [f"[dim]{escape(_rule_text(standings))}[/]", table]
    if standings.not_qualified:
        waiting = ", ".join(
            f"{escape(names.get(s.member, s.member))} ({s.qualifying})"
            for s in standings.not_qualified
        )
        parts.append(f"Not yet qualified: {waiting}")
    parts.append(f"[dim]{as_of_text(standings.data_as_of, tz)}[/]")
    title = f"[bold]{escape(c.name)}[/] — {escape(standings.window.label())}"
    return Panel(Group(*parts), title=title, title_align="left", expand=False)


def alerts_tables(found: Sequence[RuleAlerts], *, tz: ZoneInfo) -> Group:
    """``deskboard alerts``: a table per rule of the tickets it flags now."""
    parts: list[RenderableType] = []
    for item in found:
        rule = item.rule
        title = f"{escape(rule.name)}: {rule.when.value}, {rule.clock.value} clock"
        if not item.at_risk:
            parts.append(f"[bold]{title}[/]: no ticket at risk")
            continue
        table = Table(title=title, title_justify="left", expand=False)
        for column in ("Ticket", "Summary", "Company", "Priority", "Owner", "Age", "Due"):
            table.add_column(column, overflow="fold")
        for risk in item.at_risk:
            t = risk.ticket
            due = "—" if risk.due_at is None else f"{risk.due_at.astimezone(tz):%a %H:%M}"
            table.add_row(
                f"#{t.id}",
                escape(t.summary or ""),
                escape(t.company_name or t.company or ""),
                escape(t.priority or ""),
                escape(t.owner or "nobody"),
                f"{risk.age_minutes:.0f} min",
                due,
            )
        parts.append(table)
    return Group(*parts)
