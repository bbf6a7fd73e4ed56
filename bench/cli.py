"""Command-line start-up: `supportbot --help` and `supportbot flows check flows/` against importing click and yaml.

    python bench/cli.py [--runs 21] [--old DIR]

Each command runs as a fresh process N times; the table shows the median and the fastest run in
milliseconds, and the median as a multiple of `python -c "import click, yaml"` (target: 3x or less).
The last columns are the CPU time (user + system) the process used, which a busy shared machine
inflates less than the wall-clock time.
`supportbot` runs as its console script does (`from bot.cli import main; main()`) without the
shell wrapper a version manager (pyenv) may put in front of it. With --old DIR (a checkout of an
earlier commit, e.g. made with `git worktree add /tmp/old <commit>`) the commands run there too,
interleaved with this checkout's, so both sets share the machine's load.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPPORTBOT = "import sys; from bot.cli import main; sys.argv[0] = 'supportbot'; sys.exit(main())"
BASELINE = ("python -c 'import click, yaml'", [sys.executable, "-c", "import click, yaml"])
COMMANDS = [
    ("supportbot --help", [sys.executable, "-c", SUPPORTBOT, "--help"]),
    ("supportbot flows check flows/", [sys.executable, "-c", SUPPORTBOT, "flows", "check", "flows/"]),
]


# An installed command runs from byte-compiled modules (pip compiles them at install). With
# PYTHONDONTWRITEBYTECODE set, as on some development machines, every run would compile the
# checkout's modules from source again, about 35 ms of CPU that no user pays; the warm-up run
# below writes the .pyc files and the timed runs read them.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def once(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run; `cwd` decides which checkout's `bot` is imported (it is
    first on sys.path)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--old", type=Path, default=None, help="an earlier checkout to measure alongside")
    args = parser.parse_args()
    rows = [("", BASELINE[0], BASELINE[1], ROOT)]
    for label, argv in COMMANDS:
        if args.old is not None:
            rows.append(("before", label, argv, args.old.resolve()))
        rows.append(("after" if args.old is not None else "", label, argv, ROOT))
    for _, _, argv, cwd in rows:  # warm the file cache and the .pyc files
        once(argv, cwd)
    times: list[list[float]] = [[] for _ in rows]
    cpu: list[list[float]] = [[] for _ in rows]
    for _ in range(args.runs):
        for i, (_, _, argv, cwd) in enumerate(rows):
            wall, used = once(argv, cwd)
            times[i].append(wall)
            cpu[i].append(used)
    base, cpu_base = statistics.median(times[0]), statistics.median(cpu[0])
    print(f"{args.runs} runs each, milliseconds (python {sys.version.split()[0]})")
    print(
        f"{'command':<38} {'version':<8} {'median':>8} {'fastest':>8} {'x baseline':>11}"
        f" {'cpu':>6} {'cpu x':>6}"
    )
    for (version, label, _, _), runs, spent in zip(rows, times, cpu, strict=True):
        median, cpu_median = statistics.median(runs), statistics.median(spent)
        print(
            f"{label:<38} {version:<8} {median * 1000:>8.0f} {min(runs) * 1000:>8.0f} {median / base:>10.1f}x"
            f" {cpu_median * 1000:>6.0f} {cpu_median / cpu_base:>5.1f}x"
        )


if __name__ == "__main__":
    main()
