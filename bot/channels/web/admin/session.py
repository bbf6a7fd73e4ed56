"""The admin session: a signed, expiring cookie carrying a per-session CSRF token; no server-side store."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE = "supportbot_admin"
LIFETIME = 12 * 3600.0  # a working day; then sign in again


@dataclass(frozen=True)
class Session:
    csrf: str
    expires: float


class Signer:
    """Signs sessions with a key derived from SUPPORTBOT_ADMIN_TOKEN: changing the token signs everyone out.

    Every web process derives the same key, so a session works whichever process serves the request.
    """

    def __init__(self, admin_token: str) -> None:
        self._token = admin_token.encode()
        self._key = hmac.new(self._token, b"supportbot admin session v1", hashlib.sha256).digest()

    def token_ok(self, candidate: str) -> bool:
        # Compare digests so the comparison time does not depend on the token's length either.
        return hmac.compare_digest(
            hashlib.sha256(candidate.encode()).digest(), hashlib.sha256(self._token).digest()
        )

    def issue(self, now: float | None = None) -> tuple[str, Session]:
        session = Session(csrf=secrets.token_urlsafe(24), expires=(now or time.time()) + LIFETIME)
        body = json.dumps({"csrf": session.csrf, "exp": session.expires}, separators=(",", ":")).encode()
        payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"{payload}.{self._sign(payload)}", session

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session in the cookie, or None when it is missing, forged, malformed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = Session(csrf=str(data["csrf"]), expires=float(data["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > (now or time.time()) else None

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
