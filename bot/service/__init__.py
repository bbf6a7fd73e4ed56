"""The application service every channel calls: one transaction per turn, escalation, human takeover."""

from bot.service.conversations import ConversationService
from bot.service.ports import Bus
from bot.service.results import AgentReply, Claimed, Started, Transcript, TurnResult
from bot.service.turns import PRIVACY_NOTICE

__all__ = [
    "PRIVACY_NOTICE",
    "AgentReply",
    "Bus",
    "Claimed",
    "ConversationService",
    "Started",
    "Transcript",
    "TurnResult",
]
