"""The web channel: the widget, its JSON API, the agent API, live events, health and metrics."""

from bot.channels.web.app import create_app

__all__ = ["create_app"]
