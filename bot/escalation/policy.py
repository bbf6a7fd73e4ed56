"""How hard the outbox tries to deliver: the defaults and the policy, with no database behind them."""

from __future__ import annotations

from dataclasses import dataclass

LEASE_SECONDS = 60.0  # a worker that dies mid-delivery loses its lease; another retries the row
BASE_DELAY = 2.0
MAX_DELAY = 600.0
MAX_ATTEMPTS = 8
PER_SINK = 4  # deliveries in flight to one sink at once
SINK_TIMEOUT = 30.0  # a sink that has not answered by then has failed this try (well inside the lease)


@dataclass(frozen=True)
class Policy:
    """How hard to try: tries before a row is dead, the backoff's base and cap, a worker's lease, and
    how many deliveries to one sink run at once and how long each may take."""

    max_attempts: int = MAX_ATTEMPTS
    base_delay: float = BASE_DELAY
    max_delay: float = MAX_DELAY
    lease_seconds: float = LEASE_SECONDS
    per_sink: int = PER_SINK
    sink_timeout: float = SINK_TIMEOUT
