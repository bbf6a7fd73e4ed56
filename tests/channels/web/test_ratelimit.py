"""Token buckets: limits hold while a key is busy, and idle keys are forgotten so memory stays flat."""

from __future__ import annotations

from bot.channels.web.ratelimit import Limiter, Rate


def test_a_burst_is_allowed_then_refused_with_the_wait_until_the_next_token() -> None:
    limiter = Limiter(Rate(burst=3, per_second=1))
    assert [limiter.hit("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.hit("a", now=0.0) == 1.0
    assert limiter.hit("a", now=1.0) == 0.0  # one token came back after a second
    assert limiter.hit("b", now=1.0) == 0.0  # other keys have their own bucket


def test_buckets_idle_long_enough_to_be_full_again_are_dropped() -> None:
    limiter = Limiter(Rate(burst=10, per_second=1))  # refills completely in 10 s
    for i in range(1000):
        limiter.hit(f"customer-{i}", now=i * 0.1)  # ten new customers a second, each seen once
    assert len(limiter) <= 101  # only the last ~10 s of customers are remembered
    limiter.hit("busy", now=100.0)
    limiter.hit("busy", now=108.0)
    limiter.hit("late", now=109.0)
    assert limiter.hit("busy", now=110.5) == 0.0
    assert len(limiter) == 2  # busy and late are inside their refill time; everyone else was forgotten


def test_the_key_cap_still_bounds_memory_under_a_flood_of_new_keys() -> None:
    limiter = Limiter(Rate(burst=5, per_second=0.01), max_keys=50)
    for i in range(500):
        limiter.hit(f"k{i}", now=0.0)
    assert len(limiter) == 50
