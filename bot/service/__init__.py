"""The application service every channel calls: one transaction per turn, escalation, human takeover."""

from bot.service.conversations import ConversationService
from bot.service.ports import Bus
from bot.service.turns import PRIVACY_NOTICE, Started

__all__ = ["PRIVACY_NOTICE", "Bus", "ConversationService", "Started"]
