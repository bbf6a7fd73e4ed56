"""Slack's refusals read once: the error's name, whether a retry can fix it, and how long Slack asks us to wait."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

# Slack errors a retry will not fix: the operator must change configuration.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "msg_too_long",
    }
)


@dataclass(frozen=True)
class Refusal:
    error: str
    permanent: bool
    retry_after: float | None = None


def refusal(exc: SlackApiError) -> Refusal:
    """What an error answer from the Web API means for a retry (429's Retry-After is the least wait)."""
    response = exc.response
    error = str(response.get("error", "unknown_error")) if response is not None else "unknown_error"
    retry_after: float | None = None
    if response is not None and response.status_code == 429:
        raw = (response.headers or {}).get("retry-after") or (response.headers or {}).get("Retry-After")
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        try:
            retry_after = float(raw) if raw is not None else None
        except ValueError:
            retry_after = None
    if response is not None and response.status_code >= 500:
        error = f"HTTP {response.status_code}: {error}"
    return Refusal(error, error in PERMANENT, retry_after)
