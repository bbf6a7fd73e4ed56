"""Load generator for the web API: concurrent 6-turn customers against SQLite, PostgreSQL, the floor and a no-op.

Run from the repository root:

    python bench/http.py                       # every target, 50 customers, 15 s each
    python bench/http.py --only sqlite --customers 50 --duration 30
    python bench/http.py --only sqlite --rate 1000  # latency at 1,000 messages/s offered, not flat out
    python bench/http.py --soak 600            # half the measured max rate for 10 minutes (SQLite)
    python bench/http.py --soak 180 --setup postgres

Servers run in their own processes (uvicorn with uvloop and httptools when installed), the generator
in this one (aiohttp on uvloop). Every customer comes from its own address: the servers trust
X-Forwarded-For from 127.0.0.1 only (SUPPORTBOT_TRUSTED_PROXIES), exactly as behind a real proxy,
so the per-address limits stay on and each simulated customer has its own buckets.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `http`: take its folder off the import path
# before anything (aiohttp, uvicorn) imports `http`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
# And measure this checkout's `bot`, whatever another editable install points at.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/supportbot_bench"

# One customer: the opening turn, then five answers (typed and clicked) through the reference flow,
# with no probes on the way (a bench must not depend on the internet's DNS).
SCRIPT: list[dict[str, str]] = [
    {"text": "it says my password is wrong"},  # -> account details, "did that fix it?"
    {"choice": "no"},  # -> authentication
    {"choice": "no"},  # -> "which domain is your email at?"
    {"text": "example.com"},  # -> "shall I check mail.example.com?"
    {"choice": "no"},  # -> the server name; "did changing it fix it?"
]
ESCALATE = {"text": "I want to talk to a human"}  # every tenth customer's last turn instead


# --- the servers under test ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    name: str
    proc: subprocess.Popen[bytes]
    url: str | None = None

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process (all its threads) so far.

        CPU per message stays comparable while other work shares the machine, where messages/s does not.
        """
        # The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Cluster:
    """Starts processes with their logs in a temporary folder and stops them all on exit."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[Proc] = []

    def spawn(self, name: str, args: list[str], env: dict[str, str], port: int | None = None) -> Proc:
        log = (self.logs / f"{name}.log").open("wb")
        env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=log)
        p = Proc(name, proc, f"http://127.0.0.1:{port}" if port else None)
        self.procs.append(p)
        return p

    async def ready(self, p: Proc, wait: float = 60) -> None:
        import aiohttp

        deadline = time.monotonic() + wait
        async with aiohttp.ClientSession() as s:
            while True:
                if p.proc.poll() is not None:
                    log = (self.logs / f"{p.name}.log").read_text()[-3000:]
                    raise SystemExit(f"{p.name} exited with {p.proc.returncode}:\n{log}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with s.get(f"{p.url}/healthz") as r:
                        if r.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise SystemExit(f"{p.name} did not answer /healthz within {wait} s")
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        for p in self.procs:
            if p.proc.poll() is None:
                # SIGINT: uvicorn stops cleanly and a profiler wrapped around it writes its report.
                p.proc.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.proc.wait(15)
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait()
        self.procs.clear()


def bot_env(database_url: str, webhook: str | None) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "SUPPORTBOT_FLOWS": str(ROOT / "flows"),
        "SUPPORTBOT_TRUSTED_PROXIES": "127.0.0.1/32",
        "SUPPORTBOT_NAMESERVERS": "127.0.0.1:9",  # never the internet's DNS
        "PYTHONUNBUFFERED": "1",
        "SUPPORTBOT_ACCESS_LOG": "0",
    }
    if webhook:
        env["SUPPORTBOT_ESCALATION_WEBHOOK_URL"] = webhook
    return env


async def reset_postgres(url: str) -> None:
    """A fresh database of the bench's own, so runs never touch the tests' data."""
    import asyncpg

    base, _, name = url.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


# --- the floor and the no-op, served by this file in a child process ----------------------------------


def serve_baseline(kind: str, port: int, database_url: str) -> None:
    """`--serve floor|trivial`: the same routes with nothing of supportbot behind them."""
    import uvicorn
    from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from bot.storage.database import open_engine
    from bot.storage.driver import open_driver

    meta = MetaData()
    Table(
        "floor_writes",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("conversation_id", String(40), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", Float, nullable=False),
    )
    db = open_engine(database_url) if kind == "floor" else None  # only to create the table
    driver = None

    async def write(conversation_id: str, body: bytes) -> None:
        if driver is not None:
            # One transaction with one insert, through the driver supportbot's turns use: what any
            # stateful endpoint on this stack pays at least.
            async with driver.write() as s:
                await s.run(
                    "INSERT INTO floor_writes (conversation_id, body, created_at) VALUES ($1, $2, $3)",
                    conversation_id,
                    body.decode(),
                    time.time(),
                )

    async def start(request: Request) -> Response:
        cid = "c_" + secrets.token_hex(12)
        await write(cid, await request.body())
        return JSONResponse(
            {"conversation": cid, "token": "t", "status": "active", "messages": [], "awaiting": None},
            status_code=201,
        )

    async def message(request: Request) -> Response:
        await write(request.path_params["cid"], await request.body())
        return JSONResponse({"conversation": request.path_params["cid"], "status": "active", "messages": []})

    async def ok(request: Request) -> Response:
        await request.body()
        return JSONResponse({"status": "ok"})

    async def setup() -> None:
        if db is not None:
            async with db.begin() as conn:
                await conn.run_sync(meta.create_all)
            await db.dispose()

    asyncio.run(setup())
    if kind == "floor":
        driver = open_driver(database_url)  # opened lazily on the server's loop (asyncpg pool)
    app = Starlette(
        routes=[
            Route("/api/conversations", start, methods=["POST"]),
            Route("/api/conversations/{cid}/messages", message, methods=["POST"]),
            Route("/healthz", ok, methods=["GET"]),
            Route("/hook", ok, methods=["POST"]),  # the escalation webhook receiver
        ]
    )
    # The same server settings as `supportbot serve` (no access log unless SUPPORTBOT_ACCESS_LOG=1).
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        loop="auto",
        http="auto",
        access_log=os.environ.get("SUPPORTBOT_ACCESS_LOG") == "1",
    )


# --- the generator --------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    conversations: int = 0
    escalated: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


class Pacer:
    """Hands out request slots at a fixed rate (the soak's half-of-max); None means flat out."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1 / rate if rate else 0.0
        self.next = time.monotonic()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        self.next = max(self.next + self.interval, now)
        if self.next > now:
            await asyncio.sleep(self.next - now)


async def customer(
    session: Any,
    urls: list[str],
    n: int,
    stats: Stats,
    check: bool,
    pacer: Pacer,
    measuring: Callable[[], bool],
) -> None:
    ip = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    base = {"X-Forwarded-For": ip, "Content-Type": "application/json"}
    escalate = n % 10 == 9
    turns = [*SCRIPT[:-1], ESCALATE if escalate else SCRIPT[-1]]

    async def post(i: int, path: str, body: dict[str, str], headers: dict[str, str]) -> dict[str, Any] | None:
        await pacer.wait()
        url = urls[(n + i) % len(urls)]  # several processes: consecutive turns go to different ones
        began = time.perf_counter()
        try:
            async with session.post(url + path, data=json.dumps(body), headers=headers) as r:
                data = await r.json(content_type=None)
                status = r.status
        except Exception as exc:
            if measuring():
                stats.error(type(exc).__name__)
            return None
        if measuring():
            stats.latencies.append(time.perf_counter() - began)
            if status >= 300:
                stats.error(f"HTTP {status}")
        if status >= 300:
            return None  # in the warm-up too: an error body is no turn to go on from
        return data if isinstance(data, dict) else None

    opened = await post(0, "/api/conversations", {"flow": "cant-send-email"}, base)
    if opened is None:
        return
    headers = {**base, "Authorization": f"Bearer {opened['token']}"}
    path = f"/api/conversations/{opened['conversation']}/messages"
    turn: dict[str, Any] | None = opened
    for i, body in enumerate(turns, start=1):
        headers["Idempotency-Key"] = f"{n}-{i}"
        turn = await post(i, path, body, headers)
        if turn is None:
            return
    if not measuring():
        return
    if check:
        awaiting = turn.get("awaiting") or {}
        want_escalated = turn.get("status") == "escalated"
        if escalate != want_escalated or (not escalate and awaiting.get("kind") != "choice"):
            stats.error("wrong conversation outcome")
            return
    stats.conversations += 1
    stats.escalated += escalate


@dataclass
class Result:
    name: str
    procs: int
    seconds: float
    stats: Stats
    cpu: float = 0.0  # seconds of CPU the web processes used in the measured window

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu * 1000 / len(self.stats.latencies) if self.stats.latencies else float("nan")

    @property
    def msgs(self) -> float:
        return len(self.stats.latencies) / self.seconds

    @property
    def convs(self) -> float:
        return self.stats.conversations / self.seconds

    def pct(self, q: float) -> float:
        lat = sorted(self.stats.latencies)
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")


async def drive(
    urls: list[str],
    customers: int,
    duration: float,
    warmup: float,
    check: bool,
    rate: float | None = None,
    tick: Callable[[float], None] | None = None,
    edge: Callable[[], None] | None = None,
) -> tuple[Stats, float]:
    """`customers` concurrent loops of whole conversations; only the window after warm-up counts.

    `edge` is called as the measured window opens and again as it closes.
    """
    import aiohttp

    stats = Stats()
    counter = iter(range(1, 1 << 24))
    window = {"start": 0.0, "end": 0.0}

    def measuring() -> bool:
        now = time.monotonic()
        return window["start"] <= now < window["end"]

    began = time.monotonic()
    window["start"], window["end"] = began + warmup, began + warmup + duration
    pacer = Pacer(rate)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)

    async def loop(session: Any) -> None:
        while time.monotonic() < window["end"]:
            await customer(session, urls, next(counter), stats, check, pacer, measuring)

    async def edges(call: Callable[[], None]) -> None:
        for at in (window["start"], window["end"]):
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            call()

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(loop(session)) for _ in range(customers)]
        if edge is not None:
            tasks.append(asyncio.create_task(edges(edge)))
        if tick is not None:
            while not all(t.done() for t in tasks):
                await asyncio.sleep(5)
                tick(time.monotonic() - began)
        await asyncio.gather(*tasks)
    return stats, duration


# --- targets ------------------------------------------------------------------------------------


async def target(
    name: str, cluster: Cluster, args: argparse.Namespace, hook: str | None
) -> tuple[list[Proc], bool]:
    """Start the processes of one target; return the web processes and whether to check outcomes."""
    if name == "ceiling":
        port = free_port()
        p = cluster.spawn("trivial", [__file__, "--serve", "trivial", "--port", str(port)], {}, port)
        await cluster.ready(p)
        return [p], False
    postgres = name.startswith("pg")
    if postgres:
        await reset_postgres(args.pg)
    url = args.pg if postgres else f"sqlite:///{cluster.logs / (name + '.db')}"
    count = 2 if postgres else 1
    web: list[Proc] = []
    for i in range(count):
        port = free_port()
        if name.endswith("floor"):
            argv = [__file__, "--serve", "floor", "--port", str(port), "--database-url", url]
        else:
            argv = ["-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
            if args.profile and i == 0:
                out = f"{args.profile}.{name}.txt"  # main() made args.profile absolute
                argv = ["-m", "pyinstrument", "-r", "text", "-o", str(out), *argv]
        env = bot_env(url, hook)
        if args.access_log:
            env["SUPPORTBOT_ACCESS_LOG"] = "1"
        web.append(cluster.spawn(f"{name}-{i}", argv, env, port))
        await cluster.ready(web[-1])  # one at a time: the first creates the schema
    if postgres and not name.endswith("floor"):
        cluster.spawn(f"{name}-worker", ["-m", "bot", "worker"], bot_env(url, hook))
    return web, not name.endswith("floor")


async def measure(name: str, args: argparse.Namespace, logs: Path, hook: str | None) -> Result:
    cluster = Cluster(logs)
    try:
        web, check = await target(name, cluster, args, hook)
        cpu: list[float] = []

        def edge() -> None:
            cpu.append(sum(p.cpu_seconds() for p in web))

        stats, seconds = await drive(
            [p.url or "" for p in web],
            args.customers,
            args.duration,
            args.warmup,
            check,
            rate=args.rate,
            edge=edge,
        )
        for p in cluster.procs:
            if p.proc.poll() is not None:
                stats.error(f"{p.name} died")
        return Result(name, len(web), seconds, stats, cpu[1] - cpu[0] if len(cpu) == 2 else float("nan"))
    finally:
        cluster.stop()


LABELS = {
    "ceiling": "generator ceiling (no-op endpoint)",
    "sqlite-floor": "floor: Starlette + 1 SQLite write",
    "sqlite": "supportbot serve, SQLite",
    "pg-floor": "floor: Starlette + 1 PostgreSQL write",
    "pg": "supportbot serve, PostgreSQL (+ worker)",
}
FLOOR = {"sqlite": "sqlite-floor", "pg": "pg-floor"}


def table(results: dict[str, Result], customers: int) -> str:
    head = (
        f"| target ({customers} concurrent customers) | web procs | conversations/s | messages/s "
        "| p50 ms | p95 ms | p99 ms | errors | vs floor | server CPU ms/message |"
        "\n|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for key, r in results.items():
        floor = results.get(FLOOR.get(key, ""))
        ratio = f"{r.msgs / floor.msgs:.2f}" if floor and floor.msgs else ""
        errors = sum(r.stats.errors.values())
        detail = f" ({', '.join(f'{k}: {v}' for k, v in r.stats.errors.items())})" if errors else ""
        lines.append(
            f"| {LABELS[key]} | {r.procs} | {r.convs:,.0f} | {r.msgs:,.0f} | {r.pct(0.5):.1f} "
            f"| {r.pct(0.95):.1f} | {r.pct(0.99):.1f} | {errors}{detail} | {ratio} | {r.cpu_ms_per_message:.2f} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


@contextlib.asynccontextmanager
async def webhook_receiver(logs: Path) -> AsyncIterator[str]:
    """A no-op receiver for escalations, so deliveries really happen during the run."""
    cluster = Cluster(logs)
    port = free_port()
    p = cluster.spawn("hook", [__file__, "--serve", "trivial", "--port", str(port)], {}, port)
    try:
        await cluster.ready(p)
        yield f"{p.url}/hook"
    finally:
        cluster.stop()


async def benchmark(args: argparse.Namespace) -> None:
    import uvloop  # noqa: F401  (the parent asserts it is there, the children use it through uvicorn)

    order = ["ceiling", "sqlite-floor", "sqlite", "pg-floor", "pg"]
    chosen = [n for n in order if not args.only or any(n == o or n.startswith(o + "-") for o in args.only)]
    print(f"machine: {machine()}")
    print(
        f"{args.customers} customers, {args.warmup:.0f} s warm-up then {args.duration:.0f} s measured per target"
    )
    if args.rate:
        print(f"paced: the customers together send {args.rate:,.0f} requests/s at most (open loop)")
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="supportbot-bench-") as tmp:
        async with webhook_receiver(Path(tmp)) as hook:
            for name in chosen:
                r = await measure(name, args, Path(tmp), hook)
                results[name] = r
                print(
                    f"  {LABELS[name]}: {r.msgs:,.0f} messages/s, p99 {r.pct(0.99):.1f} ms, "
                    f"server CPU {r.cpu_ms_per_message:.2f} ms/message, errors {sum(r.stats.errors.values())}",
                    flush=True,
                )
    print()
    print(table(results, args.customers))


async def soak(args: argparse.Namespace) -> None:
    """Half the max rate for a while: RSS and open files per process after warm-up vs at the end."""
    name = "pg" if args.setup == "postgres" else "sqlite"
    with tempfile.TemporaryDirectory(prefix="supportbot-soak-") as tmp:
        async with webhook_receiver(Path(tmp)) as hook:
            cluster = Cluster(Path(tmp))
            try:
                web, _ = await target(name, cluster, args, hook)
                urls = [p.url or "" for p in web]
                stats, _ = await drive(urls, args.customers, 10, 3, True)
                rate = len(stats.latencies) / 10 / 2
                print(f"max {rate * 2:,.0f} messages/s; soaking at {rate:,.0f}/s for {args.soak:.0f} s")
                warm_at = min(60.0, args.soak / 10)
                samples: dict[str, tuple[int, int]] = {}

                def tick(elapsed: float) -> None:
                    if not samples and elapsed >= warm_at:
                        samples.update({p.name: (p.rss_kb(), p.fds()) for p in cluster.procs})
                    print(
                        f"  {elapsed:5.0f} s: "
                        + ", ".join(
                            f"{p.name} {p.rss_kb() / 1024:.0f} MB {p.fds()} fds" for p in cluster.procs
                        ),
                        flush=True,
                    )

                stats, seconds = await drive(urls, args.customers, args.soak, 0, True, rate=rate, tick=tick)
                print(
                    f"\nsoak {seconds:.0f} s at {len(stats.latencies) / seconds:,.0f} messages/s, "
                    f"{stats.conversations} conversations, errors: {stats.errors or 0}"
                )
                print(
                    "| process | RSS after warm-up | RSS at end | growth | fds after warm-up | fds at end |"
                )
                print("|---|---|---|---|---|---|")
                for p in cluster.procs:
                    rss0, fd0 = samples.get(p.name, (0, 0))
                    rss1, fd1 = p.rss_kb(), p.fds()
                    growth = f"{(rss1 - rss0) / rss0:+.1%}" if rss0 else "?"
                    print(
                        f"| {p.name} | {rss0 / 1024:.1f} MB | {rss1 / 1024:.1f} MB | {growth} | {fd0} | {fd1} |"
                    )
            finally:
                cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=50, help="concurrent customers (default 50)")
    parser.add_argument("--duration", type=float, default=15, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before measuring")
    parser.add_argument("--only", nargs="*", help="targets: ceiling sqlite pg (and sqlite-floor, pg-floor)")
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG),
        help=f"PostgreSQL URL; the database is dropped and created (default {DEFAULT_PG})",
    )
    parser.add_argument("--profile", metavar="PATH", help="profile the first web process with pyinstrument")
    parser.add_argument(
        "--rate",
        type=float,
        help="pace all customers together to RATE requests/s "
        "(latency at a given load; default: flat out, each customer's next request right away)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="servers and floors write uvicorn's line per request (SUPPORTBOT_ACCESS_LOG=1)",
    )
    parser.add_argument("--soak", type=float, help="soak for SECONDS at half the max rate")
    parser.add_argument("--setup", choices=["sqlite", "postgres"], default="sqlite", help="the soak's setup")
    parser.add_argument("--serve", choices=["floor", "trivial"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    if args.serve:
        serve_baseline(args.serve, args.port, args.database_url or "")
        return
    try:
        import uvloop
    except ImportError:
        runner = asyncio.Runner()
    else:
        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    with runner:
        runner.run(soak(args) if args.soak else benchmark(args))


if __name__ == "__main__":
    main()
