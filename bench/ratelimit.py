"""How closely two processes sharing a rate limit through Redis admit the configured rate.

Run from the repository root, with Redis running (db 5 is emptied):

    python bench/ratelimit.py                          # 2 processes, 20 s, 10 requests/s allowed
    python bench/ratelimit.py --redis redis://127.0.0.1:6379/5 --duration 30 --rate 20

Each process is a `bot.channels.web.ratelimit.RateLimiter` as `supportbot serve` builds it, asking for
one conversation's budget as fast as it can; the bench counts what the two admitted together, after
the first window (the burst), against the configured long-run rate. Without Redis (`--redis ''`)
each process counts alone, which shows what sharing prevents: twice the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

# bench/http.py is named like the standard library's `http`: take this folder off the import path,
# and measure this checkout's `bot`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.channels.web.ratelimit import Rate, RateLimiter, RateLimits  # noqa: E402


async def hammer(redis_url: str | None, rate: float, window: float, duration: float) -> None:
    """One process: hit the shared key until `duration` is over; print admitted after the first window."""
    limits = RateLimits(conversation_messages=Rate(burst=rate * window, per_second=rate))
    limiter = RateLimiter(limits, redis_url or None)
    began = time.monotonic()
    admitted = tries = 0
    try:
        while (elapsed := time.monotonic() - began) < duration:
            allowed = await limiter.hit("conversation", "c_bench") == 0.0
            tries += 1
            if allowed and elapsed >= window:
                admitted += 1
            if not allowed:
                await asyncio.sleep(0.001)  # a refused client waits a little, as a real one would
    finally:
        await limiter.close()
    print(admitted, tries, int(limiter.shared), flush=True)


async def main(args: argparse.Namespace) -> None:
    if args.redis:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(args.redis)
        await client.flushdb()
        await client.aclose()
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child",
            "--redis",
            args.redis,
            "--rate",
            str(args.rate),
            "--window",
            str(args.window),
            "--duration",
            str(args.duration),
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(args.processes)
    ]
    outputs = [(await c.communicate())[0].decode().split() for c in children]
    admitted = sum(int(o[0]) for o in outputs)
    tries = sum(int(o[1]) for o in outputs)
    shared = all(o[2] == "1" for o in outputs)
    measured = args.duration - args.window
    per_second = admitted / measured
    store = "Redis, shared" if shared else "each process alone"
    print(
        f"{args.processes} processes, {store}: configured {args.rate:g}/s, admitted {per_second:.2f}/s "
        f"over {measured:g} s after the first window ({per_second / args.rate - 1:+.1%}), "
        f"{tries:,} requests tried"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5", help="'' to count in each process")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rate", type=float, default=10, help="requests per second allowed")
    parser.add_argument(
        "--window", type=float, default=5, help="seconds the burst covers (burst = rate * window)"
    )
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.child:
        asyncio.run(hammer(parsed.redis, parsed.rate, parsed.window, parsed.duration))
    else:
        asyncio.run(main(parsed))
