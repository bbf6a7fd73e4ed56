"""The conversation tokens' hashes checked recently, so most turns skip a database read to authorise."""

from __future__ import annotations

import hmac
from collections import OrderedDict

from bot.storage import access, store
from bot.storage.driver import Driver

KNOWN_TOKENS = 10_000  # token hashes kept in memory, oldest out


class TokenCheck:
    """Checks a conversation's bearer token; a token never changes, so a hash read once is kept."""

    def __init__(self, driver: Driver, size: int = KNOWN_TOKENS) -> None:
        self.driver = driver
        self.size = size
        self._hashes: OrderedDict[str, str] = OrderedDict()

    async def check(self, conversation_id: str, token: str) -> bool:
        given = store.token_hash(token)  # same work whether or not the id exists: no timing hint
        known = self._hashes.get(conversation_id)
        if known is None:
            async with self.driver.read() as s:
                known = await store.stored_token_hash(s, conversation_id)
            if known is None:
                return False
            self.remember(conversation_id, known)
        else:
            self._hashes.move_to_end(conversation_id)
        if hmac.compare_digest(known, given):
            return True
        # A session opened from a single-use link (an e-mail to a customer who left) has its own token.
        async with self.driver.read() as s:
            return await access.session_valid(s, conversation_id, given)

    def remember(self, conversation_id: str, hashed: str) -> None:
        self._hashes[conversation_id] = hashed
        if len(self._hashes) > self.size:
            self._hashes.popitem(last=False)
