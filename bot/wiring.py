"""Building the long-lived pieces from settings: the database engine and the ConnectWise client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import typer
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from bot.chat.messenger import Messenger
from bot.config import DeskboardConfig
from bot.core.links import ticket_link
from bot.core.runtime import Runtime
from bot.settings import Settings, SettingsError
from metrics.definitions import TimeBasis
from metrics.windows import Period, Window, period_window, window_for_dates
from psa.connectwise.client import ConnectWiseClient, build_http_client
from storage import repo
from storage.db import create_engine_for, integrity_problem, migrate, session_scope

_SQLITE_DAMAGE = ("malformed", "file is not a database")
"""What SQLite says of a damaged file when opening it or reading its schema."""


def open_engine(settings: Settings, *, check_integrity: bool = False) -> Engine:
    """The database engine, migrated to the newest schema (migrations apply at start).

    A database that cannot be opened (a bad URL, a server that does not answer, a refused
    login, a folder that does not exist, a damaged SQLite file) raises ``SettingsError``
    naming ``DESKBOARD_DATABASE_URL``, with the URL's password hidden and the driver's first
    line. ``check_integrity``: also read a SQLite file through once (``PRAGMA quick_check``),
    so that damage inside the tickets is found now rather than by some later query.
    """
    url = settings.database_url.get_secret_value()
    try:
        engine = create_engine_for(url)
        migrate(engine)
        problem = integrity_problem(engine) if check_integrity else None
        if problem is not None:
            engine.dispose()
            raise SettingsError(
                f"DESKBOARD_DATABASE_URL: the SQLite file {_shown(url)} is damaged "
                f"({problem}); restore it from a backup, or move it away and sync again"
            )
    except SQLAlchemyError as exc:
        reason = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()
        first = reason[0] if reason else type(exc).__name__
        if url.startswith("sqlite") and any(sign in first for sign in _SQLITE_DAMAGE):
            # damage the schema itself shows (opening or migrating read a bad page)
            raise SettingsError(
                f"DESKBOARD_DATABASE_URL: the SQLite file {_shown(url)} is damaged "
                f"({first}); restore it from a backup, or move it away and sync again"
            ) from None
        raise SettingsError(
            f"DESKBOARD_DATABASE_URL: cannot open the database {_shown(url)}: "
            f"{reason[0] if reason else type(exc).__name__}"
        ) from None
    return engine


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


@contextmanager
def connectwise_client(settings: Settings) -> Iterator[ConnectWiseClient]:
    settings.require_connectwise()

    def secret(value: SecretStr | None) -> str:
        return value.get_secret_value() if value is not None else ""

    http = build_http_client(
        api_url=settings.cw_api_url or "",
        company=settings.cw_company or "",
        public_key=secret(settings.cw_public_key),
        private_key=secret(settings.cw_private_key),
        client_id=secret(settings.cw_client_id),
    )
    with http:
        yield ConnectWiseClient(http)


def member_names(engine: Engine) -> dict[str, str]:
    """Display names by member key: "Jane Smith" where ConnectWise has a name."""
    with session_scope(engine) as session:
        return {m.key: m.name or m.identifier for m in repo.list_members(session)}


def metrics_window(
    config: DeskboardConfig, *, start: date | None, end: date | None, now: datetime
) -> Window:
    """``--from``/``--to`` as a window in the configured zone; each defaults to this month."""
    month = period_window(Period.MONTHLY, now=now, tz=config.tz, week_start=config.week_start_day)
    first = start or month.start.astimezone(config.tz).date()
    last = end or month.end.astimezone(config.tz).date()
    if last <= first:
        raise typer.BadParameter(
            f"--to ({last}) must be after --from ({first}); --to is exclusive", param_hint="--to"
        )
    return window_for_dates(first, last, config.tz)


def parse_time_basis(value: str | None, config: DeskboardConfig) -> TimeBasis:
    if value is None:
        return config.metrics.time_basis
    try:
        return TimeBasis(value)
    except ValueError:
        choices = " | ".join(b.value for b in TimeBasis)
        raise typer.BadParameter(
            f"{value!r} is not one of {choices}", param_hint="--time-basis"
        ) from None


def build_runtime(
    settings: Settings,
    config: DeskboardConfig,
    engine: Engine,
    messengers: tuple[Messenger, ...],
) -> Runtime:
    """The jobs of ``deskboard run`` and ``deskboard post``, wired to real ConnectWise."""
    return Runtime(
        engine=engine,
        config=config,
        messengers=messengers,
        psa=lambda: connectwise_client(settings),
        clock=lambda: datetime.now(UTC),
        ticket_link=ticket_link(config, settings),
    )
