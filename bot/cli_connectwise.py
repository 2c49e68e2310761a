"""``deskboard connectwise …``: ConnectWise set-up (registering the ticket callback).

Part of the composition root (registered on the app in ``bot.cli``): it names the ConnectWise
adapter, ``psa.connectwise``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli_common import console, fail, settings_or_exit
from bot.settings import SettingsError

CALLBACK_DESCRIPTION = "Deskboard: push ticket changes (help-desk contests)"


def register_callback(
    url: Annotated[
        str,
        typer.Argument(
            help="Where ConnectWise reaches `deskboard run`, ending /connectwise/callback."
        ),
    ],
) -> None:
    """Register URL with ConnectWise for ticket callbacks (once; a second run changes nothing)."""
    from urllib.parse import urlsplit

    from bot.web.callbacks import CALLBACK_PATH
    from bot.wiring import connectwise_client
    from psa.connectwise.callbacks import same_callback_url
    from psa.connectwise.errors import ConnectWiseError

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(
            f"{url!r} is not an http(s) URL, e.g. https://deskboard.example.com{CALLBACK_PATH}"
        )
    if parts.username is not None or parts.password is not None:
        raise fail("the callback URL must not contain a user name or password")
    settings = settings_or_exit()
    try:
        settings.require_connectwise()
    except SettingsError as exc:
        raise fail(str(exc)) from None
    if parts.path.rstrip("/") != CALLBACK_PATH:
        console.print(
            f"Note: `deskboard run` receives callbacks at {CALLBACK_PATH}; this URL's path is "
            f"{parts.path or '/'!r} (fine behind a proxy that rewrites it).",
            markup=False,
            highlight=False,
        )
    if parts.scheme == "http":
        console.print("Note: ConnectWise cloud sites call only https URLs.", highlight=False)
    try:
        with connectwise_client(settings) as client:
            existing = [c for c in client.callbacks() if c.type.casefold() == "ticket"]
            same = next((c for c in existing if same_callback_url(c.url, url)), None)
            if same is None:
                created = client.register_callback(
                    url=url.strip(), description=CALLBACK_DESCRIPTION
                )
    except ConnectWiseError as exc:
        raise fail(f"ConnectWise: {exc}", code=1) from None
    for entry in existing:
        state = " (inactive)" if entry.inactive else ""
        console.print(
            f"Ticket callback {entry.id}: {entry.url} level {entry.level}{state}"
            f" — {entry.description or 'no description'}",
            markup=False, highlight=False,
        )  # fmt: skip
    if same is not None:
        console.print(f"Already registered as callback {same.id}; nothing changed.", markup=False)
    else:
        console.print(
            f"Registered callback {created.id}: ConnectWise now posts ticket changes to "
            f"{created.url}. Polling stays on.",
            markup=False, highlight=False,
        )  # fmt: skip
