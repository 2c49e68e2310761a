"""``deskboard.toml``: boards, calendar, members, categories, scores and contests
(docs/metrics.md, "Configuration").

Parsed once in the composition root. Unknown keys and bad values are refused with the file,
the key and the reason (``ConfigError``), before anything starts. Secrets never live here:
they come from the environment (``bot.settings``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator

from bot.config_sections import (
    ALL_NUDGE_REASONS,
    AdminsSection,
    AlertSection,
    BusinessHoursSection,
    CategorySection,
    ConnectWiseSection,
    ContestSection,
    CsatSection,
    FieldError,
    KudosSection,
    MembersSection,
    MetricsSection,
    NudgeReasonName,
    NudgesSection,
    ScoreSection,
    Section,
    SlackSection,
    TeamsSection,
    weekday_number,
)
from metrics.alerts import AlertClock, AlertRule, duration_minutes
from metrics.calendar import BusinessCalendar, BusinessHours
from metrics.categories import Category, category_bits
from metrics.contests import Contest
from metrics.definitions import MetricRef, Needs, parse_metric_ref
from metrics.derive import DeriveParams
from metrics.scores import Score

__all__ = [
    "ALL_NUDGE_REASONS",
    "NO_DELIVERY",
    "PROGRAM_SECTIONS",
    "BusinessHoursSection",
    "CategorySection",
    "ConfigError",
    "ConnectWiseSection",
    "ContestDelivery",
    "ContestSection",
    "DeskboardConfig",
    "KudosSection",
    "MembersSection",
    "MetricsSection",
    "NudgeReasonName",
    "NudgesSection",
    "ScoreSection",
    "SlackSection",
    "TeamsSection",
    "load_config",
    "parse_config",
]


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names file, key and reason."""


@dataclass(frozen=True, slots=True)
class ContestDelivery:
    """Where and when a contest's standings and winners are posted: chat delivery settings,
    kept here rather than in the pure ``metrics.contests.Contest``."""

    channel: str | None = None  # Slack channel id (or #name)
    teams_channel: str | None = None  # Teams "Team/Channel" (or channel name, or id)
    post: str | None = None  # cron text: when the standings are posted


NO_DELIVERY = ContestDelivery()
"""The delivery of a contest that is not configured (an ad-hoc ``/leaderboard`` one)."""

PROGRAM_SECTIONS = (
    "categories",
    "scores",
    "contests",
    "kudos",
    "nudges",
    "members",
    "alerts",
    "admins",
)
"""The sections that make the program (README "Running a contest"): kept in the database,
changed from chat or by ``deskboard config import``; the rest of deskboard.toml (time zone,
ConnectWise, opening hours, CSAT, chat settings) stays the file's."""

_BUILT = (
    "_calendar",
    "_categories",
    "_derive_params",
    "_scores",
    "_contests",
    "_deliveries",
    "_all_contests",
    "_sections",
    "_alerts",
    "tz",
    "week_start_day",
    "excluded_members",
)
"""The domain objects a configuration builds once (``functools.cached_property``)."""


class DeskboardConfig(Section):
    timezone: str = "UTC"
    week_start: str = "monday"
    connectwise: ConnectWiseSection = ConnectWiseSection()
    metrics: MetricsSection = MetricsSection()
    business_hours: BusinessHoursSection = BusinessHoursSection()
    members: MembersSection = MembersSection()
    categories: dict[str, CategorySection] = Field(default_factory=dict)
    scores: list[ScoreSection] = Field(default_factory=list)
    contests: list[ContestSection] = Field(default_factory=list)
    kudos: KudosSection = KudosSection()
    nudges: NudgesSection = NudgesSection()
    csat: CsatSection = CsatSection()
    alerts: list[AlertSection] = Field(default_factory=list)
    admins: AdminsSection = AdminsSection()
    slack: SlackSection = SlackSection()
    teams: TeamsSection = TeamsSection()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone name") from None
        return value

    @field_validator("week_start")
    @classmethod
    def _knownweekday_number(cls, value: str) -> str:
        weekday_number(value)
        return value

    # Domain objects built from the validated file -------------------------------------
    #
    # The configuration is frozen, so each object is built once, on first use, and every
    # later call returns the same object (docs/architecture.md: domain objects are built once
    # per change, not per request). A copy with changes builds its own (``model_copy``).

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> DeskboardConfig:
        copy = super().model_copy(update=update, deep=deep)
        for name in _BUILT:
            copy.__dict__.pop(name, None)
        return copy

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def week_start_day(self) -> int:
        return weekday_number(self.week_start)

    @cached_property
    def excluded_members(self) -> frozenset[str]:
        return frozenset(m.strip().casefold() for m in self.members.exclude)

    @cached_property
    def _calendar(self) -> BusinessCalendar:
        bh = self.business_hours
        return BusinessCalendar(
            BusinessHours(
                timezone=self.timezone,
                days=frozenset(weekday_number(d) for d in bh.days),
                start=bh.start,
                end=bh.end,
                country=bh.holidays,
                subdivision=bh.subdivision,
                extra_holidays=frozenset(bh.extra_holidays),
            )
        )

    def calendar(self) -> BusinessCalendar:
        return self._calendar

    @cached_property
    def _categories(self) -> tuple[Category, ...]:
        return tuple(
            Category(
                name=name,
                priority=tuple(c.priority),
                source=tuple(c.source),
                type=tuple(c.type),
                board=tuple(c.board),
            )
            for name, c in self.categories.items()
        )

    def category_list(self) -> tuple[Category, ...]:
        return self._categories

    @cached_property
    def _derive_params(self) -> DeriveParams:
        return self._params_with(self._calendar)

    def _params_with(self, calendar: BusinessCalendar) -> DeriveParams:
        return DeriveParams(
            calendar=calendar,
            catchall_company=self.connectwise.catchall_company,
            boards=tuple(str(b) for b in self.connectwise.boards),
            categories=self._categories,
        )

    def derive_params(self, calendar: BusinessCalendar | None = None) -> DeriveParams:
        if calendar is None or calendar is self._calendar:
            return self._derive_params
        return self._params_with(calendar)

    def metric_ref(self, text: str) -> MetricRef:
        return parse_metric_ref(text, frozenset(self.categories))

    @cached_property
    def _scores(self) -> tuple[Score, ...]:
        return tuple(
            Score(
                name=s.name,
                weights=tuple((self.metric_ref(k), float(w)) for k, w in s.weights.items()),
            )
            for s in self.scores
        )

    def score_list(self) -> tuple[Score, ...]:
        return self._scores

    @cached_property
    def _all_contests(self) -> tuple[Contest, ...]:
        scores = {s.name: s for s in self._scores}
        return tuple(
            Contest(
                name=c.name,
                target=scores[c.metric] if c.metric in scores else self.metric_ref(c.metric),
                kind=c.kind,
                places=c.places,
                goal=c.goal,
                goals=tuple(c.goals),
                min_resolved=c.min_resolved,
                period=c.period,
                start=c.start,
                end=c.end,
            )
            for c in self.contests
        )

    @cached_property
    def _contests(self) -> tuple[Contest, ...]:
        ended = {c.name for c in self.contests if c.ended is not None}
        return tuple(c for c in self._all_contests if c.name not in ended)

    def contest_list(self) -> tuple[Contest, ...]:
        """The contests that have not been ended ("End now"): running and upcoming."""
        return self._contests

    def all_contests(self) -> tuple[Contest, ...]:
        """Every contest of the program, ended ones too."""
        return self._all_contests

    @cached_property
    def _sections(self) -> Mapping[str, ContestSection]:
        return {c.name: c for c in self.contests}

    def contest_section(self, name: str) -> ContestSection | None:
        """The contest's settings as written (prize, channel, schedule, ended), by name."""
        return self._sections.get(name)

    def admins_of(self, platform: str) -> tuple[str, ...]:
        """Who is an admin on ``platform`` besides what the platform says: deskboard.toml's
        ``[slack] admins`` / ``[teams] admins`` and the program's stored ``[admins]``."""
        if platform == "slack":
            return (*self.slack.admins, *self.admins.slack)
        if platform == "teams":
            return (*self.teams.admins, *self.admins.teams)
        return ()

    def program_doc(self) -> dict[str, Any]:
        """The program (``PROGRAM_SECTIONS``) as JSON-ready data, defaults left out: what the
        database stores and what ``deskboard config export`` writes."""
        data = self.model_dump(
            mode="json", include=set(PROGRAM_SECTIONS), exclude_defaults=True, exclude_none=True
        )
        return {k: data[k] for k in PROGRAM_SECTIONS if k in data}

    def with_program(
        self, program: Mapping[str, Any], *, source: str = "program"
    ) -> DeskboardConfig:
        """This configuration with its program replaced by ``program`` (``program_doc``'s
        shape), validated by the same rules as the file; ``ConfigError`` otherwise."""
        config, problems = self.program_problems(program)
        if config is None:
            raise ConfigError("\n".join(f"{source}: {key}: {why}" for key, why in problems))
        return config

    def program_problems(
        self, program: Mapping[str, Any]
    ) -> tuple[DeskboardConfig | None, list[tuple[str, str]]]:
        """``with_program``'s checks, as ``config_problems`` returns them."""
        unknown = sorted(set(program) - set(PROGRAM_SECTIONS))
        if unknown:
            return None, [(unknown[0], "not part of the program")]
        data = self.model_dump(exclude=set(PROGRAM_SECTIONS), exclude_unset=True)
        data.update(program)
        return config_problems(data)

    @cached_property
    def _deliveries(self) -> Mapping[str, ContestDelivery]:
        return {
            c.name: ContestDelivery(channel=c.channel, teams_channel=c.teams_channel, post=c.post)
            for c in self.contests
        }

    def contest_deliveries(self) -> Mapping[str, ContestDelivery]:
        """Every configured contest's delivery, by contest name."""
        return self._deliveries

    @cached_property
    def _alerts(self) -> tuple[AlertRule, ...]:
        bits = category_bits(self._categories)
        hours = self.business_hours
        working_day = (hours.end.hour * 60 + hours.end.minute) - (
            hours.start.hour * 60 + hours.start.minute
        )
        rules = []
        for a in self.alerts:
            day = float(working_day) if a.clock is AlertClock.BUSINESS else 1440.0

            def minutes(text: str | None, day: float = day) -> float | None:
                return None if text is None else duration_minutes(text, day_minutes=day)

            rules.append(
                AlertRule(
                    name=a.name,
                    when=a.when,
                    clock=a.clock,
                    after_minutes=minutes(a.after),
                    before_due_minutes=minutes(a.before_due, 1440.0),
                    category=a.category,
                    category_bit=0 if a.category is None else bits.get(a.category, 0),
                    boards=tuple(str(b) for b in a.boards),
                    repeat_minutes=minutes(a.repeat, 1440.0),
                )
            )
        return tuple(rules)

    def alert_list(self) -> tuple[AlertRule, ...]:
        """The ``[[alerts]]`` rules, durations in minutes on each rule's clock (a day on the
        business clock is the configured opening hours; before_due and repeat are elapsed)."""
        return self._alerts

    def delivery_of(self, contest: Contest) -> ContestDelivery:
        """Where and when ``contest`` is posted; ``NO_DELIVERY`` for one not configured."""
        return self._deliveries.get(contest.name, NO_DELIVERY)


def problem_path(err: Any) -> tuple[int | str, ...]:
    """Where a pydantic error is: its location, and the field a ``FieldError`` names."""
    error = (err.get("ctx") or {}).get("error")
    loc = tuple(err["loc"])
    return (*loc, error.field) if isinstance(error, FieldError) else loc


def problem_reason(err: Any) -> str:
    """A pydantic error's reason, as the file's and the forms' messages say it."""
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, FieldError):
        return str(error)
    if err["type"] == "extra_forbidden":
        return "unknown key"
    return str(err["msg"])


def _location(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _needs_problem(config: DeskboardConfig, ref: MetricRef) -> str | None:
    """Why ``ref`` cannot be computed with this configuration, or None."""
    if Needs.NOTES in ref.metric.needs and not config.connectwise.sync_notes:
        return f"{ref.key} is counted from ticket notes; set [connectwise] sync_notes = true"
    return None


def _check_references(config: DeskboardConfig) -> list[tuple[str, str]]:
    """Cross-field checks pydantic cannot express: names that must refer to something."""
    problems: list[tuple[str, str]] = []
    score_names = [s.name for s in config.scores]
    for i, score in enumerate(config.scores):
        for key in score.weights:
            try:
                problem = _needs_problem(config, config.metric_ref(key))
            except ValueError as exc:
                problem = str(exc)
            if problem:
                problems.append((f"scores[{i}].weights.{key}", problem))
    if len(set(score_names)) != len(score_names):
        problems.append(("scores", "score names must be unique"))
    contest_names = [c.name for c in config.contests]
    if len(set(contest_names)) != len(contest_names):
        problems.append(("contests", "contest names must be unique"))
    for i, contest in enumerate(config.contests):
        if contest.metric in score_names:
            continue
        try:
            problem = _needs_problem(config, config.metric_ref(contest.metric))
        except ValueError as exc:
            problem = f"{exc} (or a score name)"
        if problem:
            problems.append((f"contests[{i}].metric", problem))
    alert_names = [a.name for a in config.alerts]
    if len(set(alert_names)) != len(alert_names):
        problems.append(("alerts", "alert names must be unique"))
    for i, alert in enumerate(config.alerts):
        if alert.category is not None and alert.category not in config.categories:
            known = ", ".join(sorted(config.categories)) or "none configured"
            problems.append(
                (f"alerts[{i}].category", f"no category {alert.category!r}; categories: {known}")
            )
    try:
        config.calendar()
    except ValueError as exc:
        problems.append(("business_hours", str(exc)))
    return problems


def config_problems(data: dict[str, Any]) -> tuple[DeskboardConfig | None, list[tuple[str, str]]]:
    """Validate ``data``: the configuration, or None and every problem as (key, reason), the
    key as the file writes it (``contests[0].goal``). The one set of rules for the file,
    chat forms and imports."""
    try:
        config = DeskboardConfig.model_validate(data)
    except ValidationError as exc:
        return None, [(_location(problem_path(err)), problem_reason(err)) for err in exc.errors()]
    problems = _check_references(config)
    return (None, problems) if problems else (config, [])


def parse_config(data: dict[str, Any], *, source: str = "deskboard.toml") -> DeskboardConfig:
    config, problems = config_problems(data)
    if config is None:
        raise ConfigError("\n".join(f"{source}: {key}: {why}" for key, why in problems))
    return config


def load_config(path: Path, *, required: bool = False) -> DeskboardConfig:
    """Read and validate ``path``; a missing file gives the defaults unless ``required``."""
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: no such file")
        return parse_config({}, source=str(path))
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a deskboard.toml file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    return parse_config(data, source=str(path))
