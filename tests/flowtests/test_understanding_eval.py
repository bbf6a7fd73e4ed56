"""`flows test` on labelled messages (the understanding evaluation) and `flows explain`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from tests.support.flows import REPO

FLOWS = REPO / "flows"
SUITE = FLOWS / "tests" / "cant-send-email.nlu.yaml"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def write_suite(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mini.nlu.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_the_reference_flow_meets_its_targets_on_the_held_out_messages() -> None:
    code, out = run("flows", "test", "--flows", str(FLOWS), str(SUITE), "--json")
    assert code == 0, out
    report = json.loads(out)["understanding"][0]
    assert report["failures"] == []
    pasted, words = report["kinds"]["pasted"], report["kinds"]["words"]
    assert pasted["total"] >= 80 and words["total"] >= 40 and report["unclear"]["total"] >= 10
    assert pasted["accuracy"] >= 0.95 and words["accuracy"] >= 0.85
    assert report["overall"]["wrong"] / report["overall"]["total"] <= 0.02
    assert report["unclear"]["wrong"] == 0
    cv = report["cross_validation"]["ask_symptom"]
    assert cv["total"] > 100 and 0 < cv["accuracy"] <= 1


def test_the_text_report_reads_like_rasa_test_nlu() -> None:
    code, out = run("flows", "test", "--flows", str(FLOWS))
    assert code == 0, out
    assert "understanding cant-send-email@1" in out
    assert "  question ask_symptom: " in out and " after a confirmation, " in out and " wrong" in out
    assert "    pasted " in out and "    words " in out and "naming no cause" in out
    assert "cross-validation of its examples (5 folds)" in out
    assert "  targets: pasted errors " in out


def test_targets_missed_fail_the_run_and_say_which(tmp_path: Path) -> None:
    # Every message labelled with the wrong cause: nothing can be right.
    suite = write_suite(
        tmp_path,
        """\
        flow: cant-send-email
        targets: {pasted: 0.9, words: 0.9, wrong: 0.0}
        tests:
          - step: ask_symptom
            expect: too_big
            pasted: ["535 5.7.8 Error: authentication failed", "Outlook error 0x800CCC0E"]
            words: [it keeps saying my password is wrong]
          - step: ask_symptom
            expect: unclear
            words: ["550 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org"]
        """,
    )
    code, out = run("flows", "test", "--flows", str(FLOWS), str(suite))
    assert code == 1
    assert "MISSED pasted: 0.0% routed right, the target is 90%" in out
    assert "MISSED wrong fixes: 100.0%" in out
    assert "MISSED unclear messages: 1 got a fix instead of a question" in out
    assert "confused: too_big taken for login_rejected" in out


def test_a_suite_naming_a_step_that_is_no_question_is_refused(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        """\
        flow: cant-send-email
        tests:
          - {step: welcome, expect: other, words: [hello]}
        """,
    )
    code, out = run("flows", "test", "--flows", str(FLOWS), str(suite))
    assert code != 0
    assert "step `welcome` is not a question with choices" in out


def test_explain_names_the_signal_for_a_pasted_error() -> None:
    code, out = run(
        "flows",
        "explain",
        "--flows",
        str(FLOWS),
        "cant-send-email",
        "ask_symptom",
        "550 5.7.1 Service unavailable; Client host [81.2.69.142] blocked using zen.spamhaus.org",
    )
    assert code == 0, out
    assert "listed_ip=81.2.69.142" in out and "dnsbls=['Spamhaus']" in out
    assert "signal: 'blocked using' -> blocked_bounce (strength 3)" in out
    assert "decision: route to blocked_bounce, because signal blocked using" in out


def test_explain_shows_classifier_scores_and_thresholds_for_own_words() -> None:
    code, out = run(
        "flows",
        "explain",
        "--flows",
        str(FLOWS),
        "cant-send-email",
        "ask_symptom",
        "my outlook fails to send, messages just sit in the outbox",
    )
    assert code == 0, out
    assert "signals: none" in out
    assert "classifier: stuck_outbox 0." in out
    assert "thresholds: route at 0.55" in out and "stuck_outbox routes at 0.95" in out
    assert "decision: ask to confirm stuck_outbox" in out


def test_explain_refuses_a_step_that_is_not_a_question() -> None:
    code, out = run("flows", "explain", "--flows", str(FLOWS), "cant-send-email", "welcome", "hi")
    assert code != 0
    assert (
        "step `welcome` of cant-send-email is not a question with choices; questions: ask_fixed_account"
        in out
    )
