"""What every ``deskboard`` command shares (``bot.cli``'s sibling modules): the console, the
common options, reading settings and ``deskboard.toml`` once, and exiting with one line.

Part of the composition root, like every ``bot/cli*.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from bot.config import ConfigError, DeskboardConfig, load_config
from bot.settings import Settings, SettingsError, load_settings
from metrics.ratings import RatingScale

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.service import Service

console = Console()

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="deskboard.toml (default: $DESKBOARD_CONFIG or ./deskboard.toml)"
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    error_line(message)
    return typer.Exit(code)


def error_line(message: str) -> None:
    """``error: MESSAGE`` on stderr, on one line: several lines (a configuration file's
    problems, one a line) are joined with "; "."""
    lines = (line.strip() for line in message.splitlines())
    typer.echo(f"error: {'; '.join(line for line in lines if line)}", err=True)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise fail(str(exc)) from None


def config_or_exit(settings: Settings, path: Path | None) -> DeskboardConfig:
    try:
        return load_config(path or settings.config_path, required=path is not None)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def program_or_exit(config: DeskboardConfig, engine: Engine) -> DeskboardConfig:
    """The configuration with the database's program (``bot.core.program``: a database with
    none takes the file's), or exit 2 when the stored program does not fit the file."""
    from bot.core.program import FILE_DIFFERS, adopt_file_program

    try:
        adoption = adopt_file_program(engine, config, now=now())
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if adoption.file_differs:
        typer.echo(f"note: {FILE_DIFFERS}", err=True)
    return adoption.config


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None


def engine_or_exit(settings: Settings, *, check_integrity: bool = False) -> Engine:
    """The migrated database, or exit 2 with the reason (``bot.wiring.open_engine``)."""
    from bot.wiring import open_engine

    try:
        return open_engine(settings, check_integrity=check_integrity)
    except SettingsError as exc:
        raise fail(str(exc)) from None


def now() -> datetime:
    """The command line's clock (tests set it)."""
    return datetime.now(UTC)


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ScaleOption = Annotated[
    RatingScale | None,
    typer.Option(
        help="How numeric ratings read: 1-5 or 0-10 (default: recognized when unambiguous)."
    ),
]

DryRun = Annotated[bool, typer.Option("--dry-run", help="Print instead of sending.")]


def service_or_exit(
    settings: Settings,
    config: DeskboardConfig,
    *,
    dry_run: bool,
    commands: bool = True,
    connectwise: bool = True,
) -> Service:
    """The bot (``deskboard run``), or with ``commands=False`` what posting needs
    (``deskboard post``: ConnectWise only when ``connectwise``), or exit 2 with the reason."""
    from bot.service import build_service

    try:
        if connectwise:
            settings.require_connectwise()
        engine = engine_or_exit(settings, check_integrity=commands)
        return build_service(
            settings, config, engine, dry_run=dry_run, console=console, commands=commands
        )
    except (SettingsError, ConfigError) as exc:
        raise fail(str(exc)) from None
