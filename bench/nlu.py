"""Understanding customers: routing quality before/after, classification latency, training time at load.

    python bench/nlu.py [--before REF] [--repeat 20]

Side by side in one run, on the labelled messages in flows/tests/*.nlu.yaml (and bench/nlu/):
  quality  - the reference flow at REF (default: the last commit before signals and the classifier,
             i.e. the word matcher alone) against the working tree: right directly, after a
             confirmation, asked again, wrong; per kind (pasted errors, own words, unclear);
  latency  - one decision per message (entities, signals, classifier, policy), p50/p99 over every
             message `--repeat` times; the classifier alone through scikit-learn's own
             transform + predict_proba against the fast path that reads the fitted weights;
  training - compiling the reference flow (training its classifiers), and importing scikit-learn
             in a fresh interpreter (paid once per process, only when a flow has examples);
  hostile  - entity extraction on 200 KB inputs built to make backtracking patterns explode.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bot.engine.compile import CompiledFlow, load_flow
from bot.flows.loader import read_text
from bot.flowtests.understanding import KINDS, Report, evaluate, load_suite
from bot.nlu import entities, policy
from bot.nlu.policy import Understander

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "flows" / "cant-send-email.yaml"
SUITES = [
    ROOT / "flows" / "tests" / "cant-send-email.nlu.yaml",
    ROOT / "bench" / "nlu" / "cant-send-email.dev.nlu.yaml",
]
BEFORE = "bfeb8ee"  # main before this work: typed answers went through the word matcher only


def questions(flow: CompiledFlow) -> dict[str, Understander]:
    return {sid: s.understander for sid, s in flow.steps.items() if s.understander is not None}


def quality_row(name: str, report: Report) -> str:
    cells = []
    for kind in KINDS:
        t = report.causes(kind)
        cells.append(
            f"{t.share():6.1%} right ({t.outcomes['direct']}+{t.outcomes['confirmed']}), {t.share('wrong'):5.1%} wrong"
        )
    unclear = report.unclear()
    everything = report.tally()
    return (
        f"  {name:7} pasted {cells[0]} | words {cells[1]} | unclear given a fix {unclear.outcomes['wrong']}/"
        f"{unclear.total} | all wrong {everything.share('wrong'):.1%}"
    )


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", default=BEFORE, help="git ref of the flow to compare against")
    parser.add_argument("--repeat", type=int, default=20, help="passes over the messages for latency")
    args = parser.parse_args()

    started = time.perf_counter()
    import_seconds = float(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import time; t=time.perf_counter(); import sklearn.linear_model, "
                "sklearn.feature_extraction.text; print(time.perf_counter()-t)",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    load_flow(read_text(FLOW), str(FLOW))  # warm: imports done, so the next load times training only
    policy.train.cache_clear()
    t = time.perf_counter()
    after = load_flow(read_text(FLOW), str(FLOW))
    train_seconds = time.perf_counter() - t
    old_text = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{args.before}:flows/cant-send-email.yaml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    before = load_flow(old_text, f"{args.before}:flows/cant-send-email.yaml")

    print(
        f"training: compiling the reference flow {train_seconds * 1000:.0f} ms "
        f"(scikit-learn import in a fresh process: {import_seconds * 1000:.0f} ms)"
    )
    for path in SUITES:
        suite = load_suite(path)
        print(
            f"quality on {path.relative_to(ROOT)} ({sum(len(b.pasted) + len(b.words) for b in suite.tests)} messages)"
            "; right = (directly + after a confirmation)"
        )
        print(quality_row("before", evaluate(suite, questions(before))))
        print(quality_row("after", evaluate(suite, questions(after))))

    texts = [t for path in SUITES for b in load_suite(path).tests for t in (*b.pasted, *b.words)]
    ask = questions(after)["ask_symptom"]
    assert ask.classifier is not None
    decide, fast, slow = [], [], []
    for _ in range(args.repeat):
        for text in texts:
            t0 = time.perf_counter()
            ask.decide(text)
            t1 = time.perf_counter()
            ask.classifier.scores(text)
            t2 = time.perf_counter()
            decide.append(t1 - t0)
            fast.append(t2 - t1)
    for text in texts:  # scikit-learn's path is slow; one pass is enough for its percentiles
        t0 = time.perf_counter()
        ask.classifier.sklearn_scores(text)
        slow.append(time.perf_counter() - t0)
    print(f"latency over {len(texts)} messages (ms):           p50     p99     max")
    for name, samples in (
        ("decision (whole policy)", decide),
        ("classifier, fast path", fast),
        ("classifier, scikit-learn", slow),
    ):
        print(
            f"  {name:28} {statistics.median(samples) * 1e3:7.3f} {percentile(samples, 0.99) * 1e3:7.3f} "
            f"{max(samples) * 1e3:7.3f}"
        )

    entities_cap = entities.MAX_CHARS
    entities.MAX_CHARS = 200_000
    worst = 0.0
    for attack in (
        "1." * 100_000,
        "a@" * 100_000,
        "[" * 200_000,
        "0" * 200_000,
        "a." * 100_000,
        ":" * 200_000,
    ):
        t0 = time.perf_counter()
        entities.extract(attack)
        worst = max(worst, time.perf_counter() - t0)
    entities.MAX_CHARS = entities_cap
    print(
        f"hostile: slowest entity extraction of a 200 KB attack string {worst * 1000:.0f} ms "
        f"(messages are cut to {entities_cap} characters first)"
    )
    print(f"(bench took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
