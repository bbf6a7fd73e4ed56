"""The Chatwoot channel: the bot as a Chatwoot Agent Bot, answering in any Chatwoot inbox."""

from bot.channels.chatwoot.channel import ChatwootChannel
from bot.channels.chatwoot.events import Event, parse
from bot.channels.chatwoot.sink import ChatwootSink, chatwoot_sink
from bot.channels.chatwoot.wiring import chatwoot_mount

__all__ = ["ChatwootChannel", "ChatwootSink", "Event", "chatwoot_mount", "chatwoot_sink", "parse"]
