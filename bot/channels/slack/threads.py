"""Where a conversation lives in Slack: thread keys, and the customer identity stored with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHANNEL = "slack"


@dataclass(frozen=True)
class Thread:
    """One Slack thread: the workspace, the channel and the ts of the thread's first message."""

    team: str
    channel: str
    ts: str

    @property
    def key(self) -> str:
        # One thread is one conversation: svc.find_by_thread("slack", key).
        return f"{self.team}:{self.channel}:{self.ts}"

    @classmethod
    def from_key(cls, key: str) -> Thread | None:
        parts = key.split(":")
        if len(parts) != 3 or not all(parts):
            return None
        return cls(*parts)

    @classmethod
    def of_event(cls, event: Mapping[str, Any], team: str) -> Thread:
        """The thread a message belongs to; a top-level message starts its own."""
        return cls(team, str(event["channel"]), str(event.get("thread_ts") or event["ts"]))


def customer_of(thread: Thread, user: str, name: str | None) -> dict[str, str]:
    """The customer identity given to svc.start; the escalation sink reads the thread back from it."""
    out = {
        "slack_user": user,
        "slack_team": thread.team,
        "slack_channel": thread.channel,
        "slack_thread_ts": thread.ts,
        "thread_key": thread.key,
    }
    if name:
        out["name"] = name
    return out


def thread_of_customer(customer: Mapping[str, Any] | None) -> Thread | None:
    """The Slack thread of a customer who wrote from Slack, or None (widget, terminal)."""
    if not customer:
        return None
    if customer.get("thread_key"):
        return Thread.from_key(str(customer["thread_key"]))
    team, channel, ts = (customer.get(k) for k in ("slack_team", "slack_channel", "slack_thread_ts"))
    if team and channel and ts:
        return Thread(str(team), str(channel), str(ts))
    return None
