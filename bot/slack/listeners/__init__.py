"""Bolt listeners, one module per kind, each with a ``register(app)``."""

from __future__ import annotations

from slack_bolt import App


def register_all(app: App) -> None:
    from bot.slack.listeners import actions, alerts, commands, home, options, program

    commands.register(app)
    actions.register(app)
    options.register(app)
    home.register(app)
    alerts.register(app)
    program.register(app)
