"""The delivery loop: lease due outbox rows, hand each to its sink, record success or schedule a retry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import DeliveryError
from bot.escalation import outbox
from bot.escalation.outbox import Policy
from bot.escalation.sinks import Sink

log = logging.getLogger(__name__)


async def deliver_due(
    engine: AsyncEngine,
    sinks: Mapping[str, Sink],
    *,
    max_attempts: int | None = None,
    policy: Policy | None = None,
) -> int:
    """One pass over due rows; returns how many were delivered."""
    policy = policy or Policy()
    if max_attempts is not None:
        policy = Policy(max_attempts, policy.base_delay, policy.max_delay, policy.lease_seconds)
    delivered = 0
    # One row at a time: a worker killed mid-pass leaves at most one row sent but not marked.
    for job in await outbox.lease(engine, lease_seconds=policy.lease_seconds):
        if job.lease_left() < policy.lease_seconds / 2:
            # Earlier rows of this batch were slow; another worker may take this one soon, so leave it.
            continue
        sink = sinks.get(job.sink)
        if sink is None:
            await outbox.mark_failed(
                engine,
                job,
                f"sink {job.sink!r} is not configured in this process",
                retry_after=30.0,
                policy=policy,
            )
            continue
        try:
            await sink.deliver(job.packet, job.idempotency_key)
        except DeliveryError as exc:
            status = await outbox.mark_failed(
                engine, job, str(exc), retry_after=exc.retry_after, permanent=exc.permanent, policy=policy
            )
            log.warning("escalation %s to %s failed (%s); now %s", job.idempotency_key, job.sink, exc, status)
            continue
        except Exception as exc:  # a bug in a sink must not stop the other deliveries
            log.exception("escalation %s to %s crashed", job.idempotency_key, job.sink)
            await outbox.mark_failed(engine, job, f"{type(exc).__name__}: {exc}", policy=policy)
            continue
        # A crash between the send above and this mark sends again later with the same key.
        await outbox.mark_delivered(engine, job.id)
        delivered += 1
    return delivered


async def run_forever(
    engine: AsyncEngine,
    sinks: Mapping[str, Sink],
    stop: asyncio.Event | None = None,
    poll_interval: float = 0.5,
    max_attempts: int | None = None,
    policy: Policy | None = None,
) -> None:
    """Deliver until `stop` is set (or the task is cancelled); database hiccups are logged and retried."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            busy = await deliver_due(engine, sinks, max_attempts=max_attempts, policy=policy)
        except Exception:
            log.exception("outbox pass failed; retrying")
            busy = 0
        if not busy:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_interval)
