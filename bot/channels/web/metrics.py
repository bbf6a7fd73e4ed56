"""Prometheus metrics of one web process: turns, turn latency, probes by status, escalations, outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

if TYPE_CHECKING:
    from bot.service import TurnResult


class Metrics:
    """One registry per app, so several apps (tests) never clash over metric names."""

    def __init__(self, backlog: Callable[[], Awaitable[int]] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.backlog = backlog
        self.turns = Counter(
            "supportbot_turns", "Conversation turns handled.", ["channel"], registry=self.registry
        )
        self.latency = Histogram(
            "supportbot_turn_seconds",
            "Time to answer one turn, probes included.",
            ["channel"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.probes = Counter(
            "supportbot_probes", "Probe results shown to customers.", ["status"], registry=self.registry
        )
        self.escalations = Counter(
            "supportbot_escalations", "Conversations handed to a person.", registry=self.registry
        )
        self.outbox = Gauge(
            "supportbot_outbox_backlog",
            "Escalation deliveries waiting in the outbox.",
            registry=self.registry,
        )
        self.rejected = Counter(
            "supportbot_rate_limited", "Requests refused with 429.", ["limit"], registry=self.registry
        )
        self.limits_shared = Gauge(
            "supportbot_rate_limits_shared",
            "1 while rate limits are counted in Redis for every process; 0 when counted in this one.",
            registry=self.registry,
        )
        self.limit_store_failures = Gauge(
            "supportbot_rate_limit_store_failures",
            "Rate-limit checks that found Redis unavailable and fell back to this process.",
            registry=self.registry,
        )
        self.auth_throttle_shared = Gauge(
            "supportbot_auth_throttle_shared",
            "1 while wrong admin tokens and agent keys are counted in Redis for every process; 0 when in this one.",
            registry=self.registry,
        )
        self.auth_throttle_store_failures = Gauge(
            "supportbot_auth_throttle_store_failures",
            "Wrong-guess checks that found Redis unavailable and fell back to this process.",
            registry=self.registry,
        )
        self.streams = Gauge(
            "supportbot_event_streams", "Open server-sent event streams.", registry=self.registry
        )
        # A turn counts in one channel's counter and histogram. `labels()` validates and joins the
        # label values and takes the metric's lock on every call; the children never change, so
        # each channel's pair is looked up once.
        self._per_channel: dict[str, tuple[Counter, Histogram]] = {}

    def observe_turn(self, channel: str, seconds: float, turn: TurnResult, before: str) -> None:
        children = self._per_channel.get(channel)
        if children is None:
            children = self._per_channel[channel] = (self.turns.labels(channel), self.latency.labels(channel))
        turns, latency = children
        turns.inc()
        latency.observe(seconds)
        for message in turn.messages:
            if message.type == "probe" and message.probe is not None:
                self.probes.labels(message.probe.status).inc()
        if turn.status == "escalated" and before != "escalated":
            self.escalations.inc()

    def observe_limiter(self, shared: bool, failures: int) -> None:
        self.limits_shared.set(1 if shared else 0)
        self.limit_store_failures.set(failures)

    def observe_auth_throttle(self, shared: bool, failures: int) -> None:
        self.auth_throttle_shared.set(1 if shared else 0)
        self.auth_throttle_store_failures.set(failures)

    async def render(self) -> tuple[bytes, str]:
        if self.backlog is not None:
            self.outbox.set(await self.backlog())
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
