"""Teams listeners: conversation tracking (every activity), commands (messages) and card
buttons (``adaptiveCard/action`` invokes). Each module holds one kind."""

from __future__ import annotations

from microsoft_teams.apps import App

from bot.teams.deps import TeamsDeps
from bot.teams.listeners.activity import Background

BACKGROUND_ATTRIBUTE = "deskboard_background"


def register_all(app: App, deps: TeamsDeps) -> None:
    from bot.teams.listeners import actions, commands, nudges, tracking

    background = Background()
    app.use(tracking.tracker(deps))  # first: it passes every activity on
    app.on_message(commands.message_listener(deps, background))
    app.on_card_action(actions.card_action_listener(deps, nudges.CardStates(), background))
    setattr(app, BACKGROUND_ATTRIBUTE, background)


def background_of(app: App) -> Background:
    """The work an app's listeners left running after answering (a sync, a card update)."""
    background = getattr(app, BACKGROUND_ATTRIBUTE, None)
    if not isinstance(background, Background):
        raise RuntimeError("the Teams app was not built by build_teams_app")
    return background
