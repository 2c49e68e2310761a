"""``deskboard changes`` and ``deskboard config export|import``: the program kept in the
database (README "Running a contest"), its audit list, and moving it to and from a TOML file.
Part of the composition root, like every ``bot/cli*.py``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import click
import tomli_w
import typer

from bot import cli_common
from bot.cli_common import (
    ConfigOption,
    JsonOption,
    config_or_exit,
    console,
    engine_or_exit,
    fail,
    program_or_exit,
    settings_or_exit,
)
from bot.config import PROGRAM_SECTIONS, ConfigError

config_app = typer.Typer(
    help="The program (contests, scores, categories, kudos, nudges, members, alerts, admins) "
    "to and from a TOML file.",
    no_args_is_help=True,
)


def changes(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 30,
    config_path: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who changed the program, how and when (the audit list)."""
    from bot.core.program import describe_change, what
    from storage import program as store
    from storage.db import session_scope

    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    engine = engine_or_exit(settings)
    config = program_or_exit(config, engine)
    with session_scope(engine) as session:
        found = store.list_changes(session, limit=limit)
    if as_json:
        rows = [
            {
                "id": c.id,
                "at": c.at.isoformat(),
                "actor": c.actor,
                "via": c.via,
                "action": c.action,
                "kind": c.kind,
                "name": c.name,
                "before": c.before,
                "after": c.after,
            }
            for c in found
        ]
        typer.echo(json.dumps({"changes": rows}, indent=2, ensure_ascii=False))
        return
    if not found:
        console.print("No changes yet.")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table("When", "Who", "Via", "What", "Change")
    for c in found:
        detail = describe_change(c.before, c.after) or c.action
        table.add_row(
            f"{c.at.astimezone(config.tz):%Y-%m-%d %H:%M}",
            escape(c.actor),
            c.via,
            escape(f"{c.action} {what(c.kind, c.name)}"),
            escape(detail),
        )
    console.print(table)


def _program_toml(doc: dict[str, Any], *, header: str) -> str:
    return header + tomli_w.dumps(doc)


@config_app.command("export")
def config_export(
    file: Annotated[
        Path | None, typer.Argument(help="Where to write it; default: print it.")
    ] = None,
    config_path: ConfigOption = None,
) -> None:
    """Write the program as it stands in the database as TOML, which `config import` reads."""
    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    engine = engine_or_exit(settings)
    config = program_or_exit(config, engine)
    now = cli_common.now()
    text = _program_toml(
        config.program_doc(),
        header=(
            f"# The Deskboard program, exported {now.astimezone(config.tz):%Y-%m-%d %H:%M %Z}.\n"
            "# `deskboard config import FILE` loads it back; the other settings stay in\n"
            "# deskboard.toml and the environment.\n\n"
        ),
    )
    if file is None:
        typer.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{file}: cannot be written: {exc.strerror or exc}") from None
    typer.echo(f"Wrote the program to {file}", err=True)


def _read_program(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise fail(f"{path}: no such file") from None
    except IsADirectoryError:
        raise fail(f"{path}: is a directory, not a TOML file") from None
    except UnicodeDecodeError as exc:
        raise fail(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise fail(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"{path}: not valid TOML: {exc}") from None
    others = sorted(k for k in data if k not in PROGRAM_SECTIONS)
    if others:
        typer.echo(
            f"note: {path}: {', '.join(others)} are settings, not the program: not imported "
            "(they are read from deskboard.toml)",
            err=True,
        )
    return {k: data[k] for k in PROGRAM_SECTIONS if k in data}


@config_app.command("import")
def config_import(
    file: Annotated[
        Path, typer.Argument(help="A TOML file: `config export`'s, or a deskboard.toml.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    config_path: ConfigOption = None,
) -> None:
    """Replace the program with FILE's: shows what changes and asks first (or --yes).
    Validated by the same rules as deskboard.toml; nothing changes when FILE is refused."""
    from bot.core.program import (
        Actor,
        apply_changes,
        describe_change,
        doc_of,
        plan_changes,
        what,
    )
    from storage import program as store
    from storage.db import session_scope

    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    engine = engine_or_exit(settings)
    config = program_or_exit(config, engine)
    raw = _read_program(file)
    try:
        wanted = config.with_program(raw, source=str(file))
    except ConfigError as exc:
        raise fail(str(exc)) from None
    doc = wanted.program_doc()
    with session_scope(engine) as session:
        planned = plan_changes(doc_of(store.list_items(session)), doc)
    if not planned:
        typer.echo("The program is already this file's: nothing to change.")
        return
    signs = {"created": "+", "changed": "~", "deleted": "-"}
    for change in planned:
        line = f"{signs[change.action]} {change.action} {what(change.kind, change.name)}"
        detail = describe_change(change.before, change.after)
        typer.echo(f"{line}: {detail}" if detail else line)
    if not yes:
        try:
            if not typer.confirm(f"Apply these {len(planned)} changes?", default=False):
                typer.echo("Nothing changed.")
                raise typer.Exit(1)
        except click.exceptions.Abort:
            typer.echo("\nNothing changed.")
            raise typer.Exit(1) from None
    actor = Actor(f"config import {file.name}", "import")
    with session_scope(engine) as session:
        current = doc_of(store.list_items(session))
        apply_changes(
            session, plan_changes(current, doc), wanted=doc, actor=actor, now=cli_common.now()
        )
    typer.echo(f"Imported {file}: {len(planned)} changes; running bots apply them within seconds.")
