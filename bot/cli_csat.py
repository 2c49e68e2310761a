"""``deskboard csat …``: customer satisfaction from the command line (README "Customer
satisfaction"). Part of the composition root, like every ``bot/cli*.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot import cli_common
from bot.cli_common import (
    ConfigOption,
    JsonOption,
    ScaleOption,
    config_or_exit,
    engine_or_exit,
    fail,
    settings_or_exit,
)
from metrics.ratings import RatingScale

csat_app = typer.Typer(
    help="Customer satisfaction: rating links and imports.", no_args_is_help=True
)


@csat_app.command("import")
def csat_import(
    file: Annotated[
        Path, typer.Argument(help="A CSV export: ticket_id, rating, rated_at[, comment, email].")
    ],
    scale: ScaleOption = None,
    config_path: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import ratings from SmileBack, Crewhu or any survey tool's CSV export."""
    from bot.core.rating_import import RatingsFileError, import_ratings

    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    engine = engine_or_exit(settings)
    if scale is RatingScale.WORDS:
        raise fail("--scale: give 1-5 or 0-10 (words need no scale)")
    try:
        report = import_ratings(engine, config=config, path=file, scale=scale, now=cli_common.now())
    except RatingsFileError as exc:
        raise fail(str(exc)) from None
    for problem in report.problems:
        typer.echo(f"{file}:{problem.line}: {problem.reason}", err=True)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    read = report.new + report.changed + report.unchanged
    typer.echo(
        f"Imported {read} ratings from {file}: {report.new} new, {report.changed} changed, "
        f"{report.unchanged} already held; {len(report.problems)} rows refused."
    )


def _link_settings(config_path: Path | None) -> tuple[str, str, str]:
    """(public URL, secret, company name), or exit 2 naming what is missing."""
    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    if settings.csat_link_secret is None:
        raise fail("CSAT_LINK_SECRET: set it to a long random secret to sign rating links")
    if not config.csat.public_url:
        raise fail(
            "csat.public_url: set it in deskboard.toml to the https address customers reach "
            "Deskboard at (where `deskboard run` serves $PORT)"
        )
    company = config.csat.company_name or "our service desk"
    return config.csat.public_url, settings.csat_link_secret.get_secret_value(), company


@csat_app.command("links")
def csat_links(
    ticket_id: Annotated[int, typer.Argument(help="The ticket number.", min=1)],
    config_path: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The three rating links of one ticket (positive, neutral, negative)."""
    from bot.core.rating_links import ticket_links

    public_url, secret, _ = _link_settings(config_path)
    links = ticket_links(public_url=public_url, secret=secret, ticket_id=ticket_id)
    if as_json:
        typer.echo(json.dumps(links))
        return
    for face, url in links.items():
        typer.echo(f"{face}: {url}")


@csat_app.command("template")
def csat_template(config_path: ConfigOption = None) -> None:
    """The HTML snippet to paste into ConnectWise's ticket-closed status email."""
    from bot.core.rating_links import template_links
    from bot.web.csat import email_snippet

    public_url, secret, company = _link_settings(config_path)
    typer.echo(email_snippet(template_links(public_url=public_url, secret=secret), company))
