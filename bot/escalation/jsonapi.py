"""A small JSON-over-HTTP client for helpdesk APIs (Zendesk, Freshdesk, Chatwoot); failures become DeliveryError."""

from __future__ import annotations

import base64
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from bot.errors import DeliveryError
from bot.escalation.sinks import retry_after_seconds

# Statuses a later try may get past: timeouts, conflicts, "too early", rate limits (and every 5xx).
TRANSIENT_4XX = frozenset({408, 409, 425, 429})


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The Authorization header of HTTP Basic auth, which both Zendesk and Freshdesk use with API keys."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class JsonApi:
    """One helpdesk's API: base URL, auth headers, and `call` that returns the decoded JSON body."""

    def __init__(
        self,
        name: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: float = 15.0,
        fix: str = "",
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "application/json", "User-Agent": "supportbot", **headers}
        self.timeout = timeout
        self.fix = fix  # what to check when the helpdesk refuses our credentials
        # Reading the CA store takes tens of ms: once per API, not once per delivery.
        self._ssl: ssl.SSLContext | None = None

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """A connection pool for the calls of one delivery (a lookup, a create, a note)."""
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=self.headers, timeout=self.timeout, verify=self._ssl
        ) as client:
            yield Session(self, client)


class Session:
    """Calls on one open connection pool; see JsonApi.session."""

    def __init__(self, api: JsonApi, client: httpx.AsyncClient) -> None:
        self.api = api
        self.client = client

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        name = self.api.name
        try:
            response = await self.client.request(method, path, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{name} unreachable: {type(exc).__name__}") from None
        if response.is_success:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise DeliveryError(
                    f"{name} answered {method} {path} with something that is not JSON"
                ) from None
        status = response.status_code
        detail = _detail(response)
        hint = f"; {self.api.fix}" if status in (401, 403) and self.api.fix else ""
        raise DeliveryError(
            f"{name} answered {status} to {method} {path}{detail}{hint}",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            permanent=400 <= status < 500 and status not in TRANSIENT_4XX,
        )


def _detail(response: httpx.Response) -> str:
    """The helpdesk's own words about an error, short (they name the field that was wrong)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, Mapping):
        for key in ("description", "message", "error", "errors", "details"):
            if body.get(key):
                return f": {str(body[key])[:300]}"
    return ""
