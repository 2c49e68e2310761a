"""The metrics as a manager picks them in a form: grouped as docs/metrics.md presents them,
each with its one-line definition and direction."""

from __future__ import annotations

from bot.chat.form import Choice, ChoiceGroup
from bot.chat.formatting import direction_text
from bot.config import DeskboardConfig
from bot.core.reports import database_needs
from metrics.definitions import METRICS_BY_KEY, supported_metrics

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Completeness",
        (
            "categorized_pct",
            "type_categorized",
            "subtype_categorized",
            "item_categorized",
            "no_agreement_resolved",
            "catchall_resolved",
        ),
    ),
    ("SLA", ("avg_response_minutes", "avg_resolution_hours")),
    (
        "Escalation",
        ("resolved_without_escalation", "pct_without_escalation", "escalated_resolved", "reopened"),
    ),
    (
        "Conversation",
        (
            "first_contact_pct",
            "avg_reply_minutes",
            "responses_per_ticket",
            "responses_to_close",
            "follow_up_pct",
        ),
    ),
    ("CSAT", ("csat_pct", "net_csat", "csat_responses", "csat_negative", "csat_response_rate")),
    ("Workload", ("resolved", "tickets_per_day", "avg_handle_hours", "backlog")),
)
"""Every metric once; "Workload" holds the counts that are none of the five families."""

DEFINITIONS: dict[str, str] = {
    "categorized_pct": "Share of resolved tickets with type, subtype and item set",
    "type_categorized": "Resolved tickets with a type",
    "subtype_categorized": "Resolved tickets with a subtype",
    "item_categorized": "Resolved tickets with an item",
    "no_agreement_resolved": "Resolved tickets with no agreement",
    "catchall_resolved": "Resolved tickets left on the catch-all company",
    "avg_response_minutes": "Mean time from entry to first response",
    "avg_resolution_hours": "Mean time from entry to resolution",
    "resolved_without_escalation": "Resolved tickets nobody escalated",
    "pct_without_escalation": "Share of resolved tickets nobody escalated",
    "escalated_resolved": "Escalated tickets the member resolved",
    "reopened": "Resolved tickets that were reopened",
    "first_contact_pct": "Share resolved in the first conversation",
    "avg_reply_minutes": "Mean time to answer a customer's note",
    "responses_per_ticket": "Technician responses per resolved ticket",
    "responses_to_close": "Responses from resolution to close",
    "follow_up_pct": "Share of closed tickets followed up after resolution",
    "csat_pct": "Share of ratings that are positive",
    "net_csat": "Positive minus negative ratings, as a share",
    "csat_responses": "Customer ratings received",
    "csat_negative": "Negative customer ratings",
    "csat_response_rate": "Share of resolved tickets the customer rated",
    "resolved": "Tickets resolved",
    "tickets_per_day": "Tickets resolved per working day",
    "avg_handle_hours": "Mean hours logged per resolved ticket",
    "backlog": "Open tickets owned at the end of the window",
}


def definition(key: str) -> str | None:
    """``key``'s one-line definition and direction, or None for a score or unknown key."""
    metric = METRICS_BY_KEY.get(key)
    if metric is None:
        return None
    return f"{DEFINITIONS.get(key, metric.label)} ({direction_text(metric.direction)})"


def metric_groups(config: DeskboardConfig) -> tuple[ChoiceGroup, ...]:
    """The metrics this configuration can compute, grouped, then the scores."""
    usable = {m.key for m in supported_metrics(database_needs(config))}
    groups = []
    for title, keys in GROUPS:
        choices = tuple(
            Choice(f"{METRICS_BY_KEY[k].label} ({METRICS_BY_KEY[k].unit})", k)
            for k in keys
            if k in usable and k in METRICS_BY_KEY
        )
        if choices:
            groups.append(ChoiceGroup(title, choices))
    scores = tuple(Choice(s.name[:70], s.name) for s in config.score_list())
    if scores:
        groups.append(ChoiceGroup("Scores", scores[:100]))
    return tuple(groups)
