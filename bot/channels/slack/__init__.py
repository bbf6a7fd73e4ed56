"""The Slack channel: a slack-bolt AsyncApp that troubleshoots in threads and relays agent takeovers."""

from bot.channels.slack.app import SlackChannel, build_slack_app
from bot.channels.slack.http import slack_routes

__all__ = ["SlackChannel", "build_slack_app", "slack_routes"]
