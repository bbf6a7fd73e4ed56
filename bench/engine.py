"""Engine throughput: restore -> turn -> save of plain-data conversations, against the naive way and the floor.

    python bench/engine.py [--turns 20000]

Three measurements on the reference flow, one core, no I/O:
  engine  - restore a conversation from JSON, take one turn (a typed or clicked answer that moves
            the conversation on, with its templated replies), save it back to JSON;
  naive   - the same move done the naive way: a new transitions Machine per conversation;
  bare    - a bare transitions trigger on one shared machine (the floor of this design).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import orjson
from transitions import Machine

from bot.engine.engine import Engine
from bot.engine.model import Conversation, Incoming
from bot.engine.probing import OfflineProbes
from bot.engine.registry import FlowRegistry

FLOWS = Path(__file__).resolve().parent.parent / "flows"
# (step the conversation waits at, the customer's answer): each moves on through the flow.
SCRIPT = [
    ("ask_fixed_port", Incoming(choice="no")),
    ("ask_fixed_account", Incoming(choice="yes")),
    ("ask_fixed_server", Incoming(choice="no")),
    ("ask_limit_kind", Incoming(choice="daily_limit")),
    ("ask_fixed_limits", Incoming(choice="yes")),
    ("ask_symptom", Incoming(choice="login_rejected")),
]


def saved_conversations(engine: Engine) -> list[bytes]:
    """One saved conversation (JSON text) per scripted step, as storage would hold it."""

    async def make() -> list[str]:
        out = []
        for i, (step, _) in enumerate(SCRIPT):
            conv, _turn = await engine.start(f"c_{i}")
            conv.step = step
            conv.slots["domain"] = "example.com"
            out.append(conv.dump())
        return out

    return asyncio.run(make())


def bench_engine(engine: Engine, saved: list[bytes], turns: int) -> float:
    async def run() -> float:
        answers = [incoming for _, incoming in SCRIPT]
        n = len(saved)
        start = time.perf_counter()
        for i in range(turns):
            conv = Conversation.load(saved[i % n])
            turn = await engine.handle(conv, answers[i % n])
            orjson.dumps(turn.to_json())  # what a channel sends
            conv.dump()  # what storage saves
        return time.perf_counter() - start

    return asyncio.run(run())


class _Model:
    state: str


def bench_naive(engine: Engine, turns: int) -> float:
    flow = engine.registry.get()
    states = list(flow.steps)
    transitions = [{"trigger": e.trigger, "source": e.source, "dest": e.target} for e in flow.edges]
    start = time.perf_counter()
    for i in range(turns):
        step, incoming = SCRIPT[i % len(SCRIPT)]
        model = _Model()
        Machine(model=model, states=states, transitions=transitions, initial=step, auto_transitions=False)
        model.trigger(f"choice:{incoming.choice}")  # type: ignore[attr-defined]
    return time.perf_counter() - start


def bench_bare(engine: Engine, turns: int) -> float:
    flow = engine.registry.get()
    cursor = flow.cursor
    events = flow.machine.events
    start = time.perf_counter()
    for i in range(turns):
        step, incoming = SCRIPT[i % len(SCRIPT)]
        cursor.state = step
        events[f"choice:{incoming.choice}"].trigger(cursor)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=20_000)
    args = parser.parse_args()
    engine = Engine(FlowRegistry.load_dir(FLOWS), OfflineProbes())
    saved = saved_conversations(engine)
    naive_turns = max(200, args.turns // 20)
    bench_engine(engine, saved, 500)  # warm up caches and the template compiler
    results = {
        "engine (restore -> turn -> save)": (bench_engine(engine, saved, args.turns), args.turns),
        "naive (new Machine per conversation)": (bench_naive(engine, naive_turns), naive_turns),
        "bare transitions trigger (floor)": (bench_bare(engine, args.turns), args.turns),
    }
    rates = {name: turns / seconds for name, (seconds, turns) in results.items()}
    print(f"{'measurement':40} {'turns/s':>12} {'us/turn':>10}")
    for name, rate in rates.items():
        print(f"{name:40} {rate:12,.0f} {1e6 / rate:10.1f}")
    ours, naive, bare = rates.values()
    print(f"\nengine vs naive: {ours / naive:.1f}x faster (target >= 20x)")
    print(f"engine vs bare trigger: {bare / ours:.1f}x slower (target <= 4x)")
    print(f"engine turns/s: {ours:,.0f} (target >= 10,000 on one core)")


if __name__ == "__main__":
    main()
