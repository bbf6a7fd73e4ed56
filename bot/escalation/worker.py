"""The delivery loop: lease due outbox rows, hand them to their sinks side by side, record success or a retry."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import Awaitable, Mapping
from typing import TypeVar

from bot.errors import DeliveryError
from bot.escalation import outbox
from bot.escalation.outbox import Policy
from bot.escalation.sinks import Sink
from bot.storage.driver import Driver

log = logging.getLogger(__name__)
T = TypeVar("T")


async def deliver_due(
    driver: Driver,
    sinks: Mapping[str, Sink],
    *,
    max_attempts: int | None = None,
    policy: Policy | None = None,
) -> int:
    """One pass over due rows, each sink's rows side by side; returns how many were delivered."""
    policy = _policy(policy, max_attempts)
    lanes = Lanes(policy.per_sink)
    jobs = await outbox.lease(driver, lease_seconds=policy.lease_seconds)
    done = await asyncio.gather(
        *(lanes.run(job.sink, deliver_one(driver, sinks, job, policy)) for job in jobs)
    )
    return sum(done)


async def deliver_one(driver: Driver, sinks: Mapping[str, Sink], job: outbox.Job, policy: Policy) -> bool:
    """Hand one leased row to its sink and record the outcome; True when it was delivered."""
    if job.lease_left() < policy.lease_seconds / 2:
        # It waited behind slow deliveries to the same sink; another worker may take it soon, so leave it.
        return False
    sink = sinks.get(job.sink)
    if sink is None:
        await outbox.mark_failed(
            driver,
            job,
            f"sink {job.sink!r} is not configured in this process",
            retry_after=30.0,
            policy=policy,
        )
        return False
    try:
        # The sink's own timeouts bound each read; this bounds the whole delivery, however the
        # receiver dribbles its answer, so the row is retried long before its lease runs out.
        async with asyncio.timeout(policy.sink_timeout):
            await sink.deliver(job.packet, job.idempotency_key)
    except DeliveryError as exc:
        status = await outbox.mark_failed(
            driver, job, str(exc), retry_after=exc.retry_after, permanent=exc.permanent, policy=policy
        )
        log.warning("escalation %s to %s failed (%s); now %s", job.idempotency_key, job.sink, exc, status)
        return False
    except TimeoutError:
        error = f"no answer within {policy.sink_timeout:g} s"
        status = await outbox.mark_failed(driver, job, error, policy=policy)
        log.warning("escalation %s to %s failed (%s); now %s", job.idempotency_key, job.sink, error, status)
        return False
    except Exception as exc:  # a bug in a sink must not stop the other deliveries
        log.exception("escalation %s to %s crashed", job.idempotency_key, job.sink)
        await outbox.mark_failed(driver, job, f"{type(exc).__name__}: {exc}", policy=policy)
        return False
    # A crash between the send above and this mark sends again later with the same key (the
    # receivers drop repeats by it); with deliveries side by side that is up to per_sink rows a sink.
    await outbox.mark_delivered(driver, job.id)
    return True


class Lanes:
    """One queue per sink with at most `width` deliveries in flight: a slow sink holds only its own."""

    def __init__(self, width: int) -> None:
        self.width = max(1, width)
        self._gates: dict[str, asyncio.Semaphore] = {}
        self.queued: Counter[str] = Counter()  # running or waiting, per sink

    def full(self) -> list[str]:
        """Sinks with as much work as they can take: leasing more of their rows would only hold them."""
        return [name for name, n in self.queued.items() if n >= self.width]

    def run(self, sink: str, work: Awaitable[T]) -> Awaitable[T]:
        """`work` once the sink has a free place; counted as queued from now, not from its first step."""
        self.queued[sink] += 1
        return self._run(sink, work)

    async def _run(self, sink: str, work: Awaitable[T]) -> T:
        gate = self._gates.setdefault(sink, asyncio.Semaphore(self.width))
        try:
            async with gate:
                return await work
        finally:
            self.queued[sink] -= 1
            if self.queued[sink] <= 0:
                del self.queued[sink]
                self._gates.pop(sink, None)


async def run_forever(
    driver: Driver,
    sinks: Mapping[str, Sink],
    stop: asyncio.Event | None = None,
    poll_interval: float = 0.5,
    max_attempts: int | None = None,
    policy: Policy | None = None,
) -> None:
    """Deliver until `stop` is set (or the task is cancelled); database hiccups are logged and retried.

    Rows are leased as lanes free up, without waiting for the deliveries of earlier rows: one sink
    that answers slowly keeps its own lane busy while the others carry on.
    """
    stop = stop or asyncio.Event()
    policy = _policy(policy, max_attempts)
    lanes = Lanes(policy.per_sink)
    running: set[asyncio.Task[bool]] = set()
    finished = asyncio.Event()

    def spawn(job: outbox.Job) -> None:
        task: asyncio.Task[bool] = asyncio.ensure_future(
            lanes.run(job.sink, deliver_one(driver, sinks, job, policy))
        )
        running.add(task)
        task.add_done_callback(ended)

    def ended(task: asyncio.Task[bool]) -> None:
        running.discard(task)
        finished.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox delivery failed", exc_info=task.exception())

    try:
        while not stop.is_set():
            finished.clear()
            try:
                # No more rows than free places: a row leased to wait behind others only ages its lease.
                room = policy.per_sink * max(1, len(sinks)) - len(running)
                jobs = (
                    await outbox.lease(
                        driver, limit=room, lease_seconds=policy.lease_seconds, skip_sinks=lanes.full()
                    )
                    if room > 0
                    else []
                )
            except Exception:
                log.exception("outbox pass failed; retrying")
                jobs = []
            for job in jobs:
                spawn(job)
            if not jobs:
                # Wait for a delivery to end (a lane frees up), a stop, or the next poll.
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(finished.wait())]
                try:
                    await asyncio.wait(waiters, timeout=poll_interval, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
        if running:
            await asyncio.wait(running)  # each bounded by the sink timeout
    finally:
        for task in running:
            task.cancel()


def _policy(policy: Policy | None, max_attempts: int | None) -> Policy:
    policy = policy or Policy()
    return policy if max_attempts is None else dataclasses.replace(policy, max_attempts=max_attempts)
