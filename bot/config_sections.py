"""The sections of ``deskboard.toml`` as validated models, one per table (``[connectwise]``,
``[business_hours]``, ``[[contests]]``...); ``bot.config.DeskboardConfig`` gathers them and
builds the domain objects from them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from bot.config_schedule import post_cron
from metrics.alerts import AlertClock, AlertWhen, duration_minutes
from metrics.contests import ContestKind
from metrics.definitions import TimeBasis
from metrics.ratings import DEFAULT_NEGATIVE_AT, DEFAULT_POSITIVE_AT, Credit
from metrics.windows import WEEKDAYS, Period


class FieldError(ValueError):
    """A check across a section's fields that is about one of them: the error names that field
    (``contests[0].goal``), so a form can show it beside the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Section(BaseModel):
    # allow_inf_nan: a nan weight or goal would rank nobody and crown everybody
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Name = Annotated[str, Field(min_length=1, pattern=r"\S")]
"""A score's or contest's name: what people see, so never empty or blank."""


def weekday_number(value: str) -> int:
    day = WEEKDAYS.get(value.strip().lower())
    if day is None:
        raise ValueError(f"{value!r} is not a day name (use mon, tue, ... or monday, ...)")
    return day


class ConnectWiseSection(Section):
    boards: list[str | int] = Field(default_factory=list)
    catchall_company: str = "Catchall"
    sync_notes: bool = True  # read tickets' notes (first_contact_pct, conversation metrics)
    # notes requests in flight at once; ConnectWise answers 429 when it wants fewer
    max_concurrency: Annotated[int, Field(ge=1, le=16)] = 4
    poll_minutes: Annotated[int, Field(ge=1, le=1440)] = 5  # how often `deskboard run` syncs
    ticket_url: str | None = None  # link template with {id}; default derived from CW_API_URL

    @field_validator("ticket_url")
    @classmethod
    def _has_id(cls, value: str | None) -> str | None:
        if value is not None and "{id}" not in value:
            raise ValueError("ticket_url must contain {id}, where the ticket number goes")
        return value


class MetricsSection(Section):
    time_basis: TimeBasis = TimeBasis.BUSINESS


class BusinessHoursSection(Section):
    days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: time = time(8, 0)
    end: time = time(17, 0)
    holidays: str | None = None
    subdivision: str | None = None
    extra_holidays: list[date] = Field(default_factory=list)
    waiting_statuses: list[str] = Field(default_factory=lambda: ["Waiting*"])

    @field_validator("days")
    @classmethod
    def _known_days(cls, days: list[str]) -> list[str]:
        for day in days:
            weekday_number(day)
        if not days:
            raise ValueError("at least one working day is needed")
        return days

    @model_validator(mode="after")
    def _opening_hours(self) -> BusinessHoursSection:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end:%H:%M}) must be after start ({self.start:%H:%M})")
        return self


class MembersSection(Section):
    exclude: list[str] = Field(default_factory=list)


class CategorySection(Section):
    priority: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    type: list[str] = Field(default_factory=list)
    board: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_something(self) -> CategorySection:
        if not (self.priority or self.source or self.type or self.board):
            raise ValueError("a category needs at least one of priority, source, type, board")
        return self


class ScoreSection(Section):
    name: Name
    weights: dict[str, float]

    @field_validator("weights")
    @classmethod
    def _not_empty(cls, weights: dict[str, float]) -> dict[str, float]:
        if not weights:
            raise ValueError("a score needs at least one weight")
        return weights


class ContestSection(Section):
    name: Name
    metric: str
    period: Period | None = None
    start: date | None = None
    end: date | None = None
    kind: ContestKind = ContestKind.PLACES
    places: Annotated[int, Field(ge=1, le=50)] = 3
    goal: float | None = None
    goals: list[float] = Field(default_factory=list)
    min_resolved: Annotated[int, Field(ge=0)] | None = None
    prize: Annotated[str, Field(max_length=500)] | None = None
    channel: str | None = None  # Slack channel id (or #name)
    teams_channel: str | None = None  # Teams "Team/Channel" (or channel name, or id)
    post: str | None = None  # in words ("every weekday at 9:00") or cron; kept as cron
    ended: datetime | None = None  # "End now": the contest stopped at this instant (UTC)

    @field_validator("post")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else post_cron(value)

    @field_validator("ended")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("ended needs a time zone (2026-12-04T15:00:00Z)")
        return None if value is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _window_and_goals(self) -> ContestSection:
        fixed = self.start is not None or self.end is not None
        if self.period is not None and fixed:
            raise FieldError("period", "give either period or start/end, not both")
        if self.period is None and not fixed:
            raise FieldError(
                "period", "give a period (daily ... yearly) or fixed start and end dates"
            )
        if fixed and self.start is None:
            raise FieldError("start", "a fixed contest needs start and end dates")
        if fixed and (self.end is None or self.start is None or self.end <= self.start):
            raise FieldError("end", "a fixed contest needs an end date after its start")
        if self.kind is ContestKind.ONE_GOAL and self.goal is None:
            raise FieldError("goal", "kind one_goal needs goal")
        if self.kind is ContestKind.MULTI_GOAL and not self.goals:
            raise FieldError("goals", "kind multi_goal needs goals = [..]")
        return self


class AdminsSection(Section):
    """Admins stored with the program (``[admins]``; chat and ``deskboard config import``
    change them), besides ``[slack] admins`` and ``[teams] admins`` of deskboard.toml, which
    always count."""

    slack: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)


AlertNotify = Literal["owner", "channel"]
_SLACK_GROUP = re.compile(r"S[A-Z0-9]{2,30}")
_TEAMS_TAG = re.compile(r"tag:([A-Za-z0-9+/=_\-]{1,200})(?:\|(.{1,100}))?")


def _owner_only() -> list[AlertNotify]:
    return ["owner"]


class AlertSection(Section):
    """One ``[[alerts]]`` rule (README "SLA-risk alerts"); durations as "15m", "2h", "3d"."""

    name: Name
    category: str | None = None
    boards: list[str | int] = Field(default_factory=list)
    when: AlertWhen
    after: str | None = None
    before_due: str | None = None
    clock: AlertClock = AlertClock.BUSINESS
    notify: list[AlertNotify] = Field(default_factory=lambda: _owner_only(), min_length=1)
    channel: str | None = None  # Slack channel id (or #name)
    teams_channel: str | None = None  # Teams "Team/Channel" (or channel name, or id)
    # Slack: a user group id ("S0123ONCALL"); Teams: a tag, "tag:ID|Name"; or both, a list
    mention: list[str] = Field(default_factory=list)
    repeat: str | None = None

    @field_validator("notify", "mention", mode="before")
    @classmethod
    def _one_or_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("mention")
    @classmethod
    def _mentionable(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not (_SLACK_GROUP.fullmatch(entry) or _TEAMS_TAG.fullmatch(entry)):
                raise ValueError(
                    f"{entry!r} is neither a Slack user group id (S0123ONCALL) nor a Teams "
                    'tag ("tag:ID|Name")'
                )
        return value

    def mention_for(self, platform: str) -> tuple[str, str] | None:
        """The (link target, shown name) of the rule's mention on ``platform``, if any."""
        for entry in self.mention:
            if platform == "slack" and _SLACK_GROUP.fullmatch(entry):
                return entry, entry
            tag = _TEAMS_TAG.fullmatch(entry)
            if platform == "teams" and tag:
                return f"tag:{tag.group(1)}", tag.group(2) or "tag"
        return None

    @field_validator("after", "before_due", "repeat")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            duration_minutes(value, day_minutes=1440.0)  # the form; the day length comes later
        return value

    @model_validator(mode="after")
    def _complete(self) -> AlertSection:
        if (self.after is None) == (self.before_due is None):
            raise ValueError('give either after ("15m", "2h", "3d") or before_due')
        if "channel" in self.notify and self.channel is None and self.teams_channel is None:
            raise ValueError('notify "channel" needs channel or teams_channel')
        return self


class KudosSection(Section):
    channel: str | None = None
    teams_channel: str | None = None
    mode: Literal["instant", "digest"] = "instant"
    digest_at: time = time(16, 30)
    daily_cap: Annotated[int, Field(ge=1)] = 5


NudgeReasonName = Literal["uncategorized", "no_agreement", "catchall"]
ALL_NUDGE_REASONS: tuple[NudgeReasonName, ...] = ("uncategorized", "no_agreement", "catchall")


class NudgesSection(Section):
    enabled: bool = True
    reasons: list[NudgeReasonName] = Field(default_factory=lambda: list(ALL_NUDGE_REASONS))


class CsatSection(Section):
    """Customer satisfaction (docs/metrics.md, "Customer satisfaction"; README "Customer
    satisfaction"). Ratings come from ConnectWise surveys (``surveys``), Deskboard's own
    links (served when ``CSAT_LINK_SECRET`` is set) and ``deskboard csat import``."""

    surveys: bool = True  # read ConnectWise's survey results at each sync
    positive_at: Annotated[float, Field(ge=0, le=1)] = DEFAULT_POSITIVE_AT
    negative_at: Annotated[float, Field(ge=0, le=1)] = DEFAULT_NEGATIVE_AT
    credit: Credit = Credit.RESOLVER
    # The rating page, in the MSP's name and colours
    company_name: str | None = None
    logo_url: str | None = None
    accent_color: str = "#2563eb"
    # Where the links point: the public address that serves `deskboard run`'s $PORT
    public_url: str | None = None
    change_days: Annotated[int, Field(ge=0, le=90)] = 7  # a customer may change their mind
    link_days: Annotated[int, Field(ge=1, le=365)] = 30  # links of tickets resolved this recently
    # Recognition and follow-up
    share_comments: bool = True  # a positive comment goes into the kudos post
    alert_channel: str | None = None  # Slack channel for bad ratings (managers)
    alert_teams_channel: str | None = None  # Teams channel for bad ratings
    write_back: bool = False  # add an internal note on the ticket for a bad rating

    @field_validator("accent_color")
    @classmethod
    def _color(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError(f"{value!r} is not a colour like #2563eb")
        return value

    @field_validator("logo_url", "public_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s\"'<>]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return None if value is None else value.rstrip("/")

    @model_validator(mode="after")
    def _thresholds(self) -> CsatSection:
        if self.negative_at >= self.positive_at:
            raise ValueError(
                f"negative_at ({self.negative_at}) must be below positive_at ({self.positive_at})"
            )
        return self


class SlackSection(Section):
    admins: list[str] = Field(default_factory=list)


class TeamsSection(Section):
    admins: list[str] = Field(default_factory=list)  # emails or member identifiers
    workflow_url: SecretStr | None = None  # post-only mode; a credential: never logged
