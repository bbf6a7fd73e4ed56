"""Graph and data checks on copies of the reference flow: each kind of mistake at its file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.compile import load_file
from bot.errors import FlowError
from bot.flows.loader import default_catalogue, parse_flow
from bot.flows.validate import validate_flow
from tests.support.flows import (
    Mutation,
    expected_location,
    flows_check,
    position_of,
    reference_text,
    write_copy,
)

MUTATIONS = {
    "unknown step target": Mutation(
        old="    next: offer_port_probe\n",
        new="    next: offer_port_prob\n",
        needle="offer_port_prob\n",
        message="step `offer_port_prob` does not exist; did you mean `offer_port_probe`?",
    ),
    "unknown start step": Mutation(
        old="start: welcome\n",
        new="start: wellcome\n",
        needle="wellcome",
        message="start step `wellcome` does not exist; did you mean `welcome`?",
    ),
    "unknown target in an outcome": Mutation(
        old="      fail: escalate_server_port\n",
        new="      fail: escalate_server_prt\n",
        needle="escalate_server_prt",
        message="step `escalate_server_prt` does not exist; did you mean `escalate_server_port`?",
    ),
    "unreachable step": Mutation(
        old="  # --- Endings",
        new="  orphan:\n    say: Nobody links here.\n    next: end_resolved\n\n  # --- Endings",
        needle="orphan:",
        message="step `orphan` is unreachable: no step leads to it; link it from another step or delete it",
    ),
    "dead end": Mutation(
        old="        next: say_go_through_all\n",
        new=(
            "        next: say_go_through_all\n"
            "      - {id: spin, label: Spin, next: stuck}\n\n"
            "  stuck:\n    ask: Again?\n    choices:\n      - {id: again, label: Again, next: stuck}\n"
        ),
        needle="stuck:\n",
        message="dead end: from step `stuck` the conversation can never reach an `end:` or `escalate:` step",
    ),
    "unknown probe": Mutation(
        old="    probe: smtp_25\n",
        new="    probe: smtp_26\n",
        needle="smtp_26",
        message="unknown probe `smtp_26`; known probes: dkim, dmarc, domain_blocklist, ip_blocklist,",
    ),
    "unknown probe argument": Mutation(
        old='    args: {domain: "{{ domain }}"}\n    save_as: port25\n',
        new='    args: {domian: "{{ domain }}"}\n    save_as: port25\n',
        needle="domian",
        message="probe `smtp_25` takes no argument `domian`; it takes: domain",
    ),
    "unknown validator": Mutation(
        old="    validate: number\n",
        new="    validate: numbr\n",
        needle="numbr",
        message="`validate`: 'numbr' is not allowed; expected 'domain', 'email', 'ip', 'number', 'yes_no' or 'text'",
    ),
    "unhandled probe outcome": Mutation(
        old="      pass: port25_open_here\n      warn: port25_open_here\n",
        new="      pass: port25_open_here\n",
        needle="pass: port25_open_here",
        message="probe outcome(s) not handled: warn; map each to a step or add `default:`",
    ),
    "unknown probe outcome name": Mutation(
        old="      pass: port25_open_here\n      warn: port25_open_here\n",
        new="      pass: port25_open_here\n      warning: port25_open_here\n",
        # A check across the whole step, so it points at the step's first key, not at `warning:`.
        needle="say: Checking port 25",
        message="unknown outcome 'warning'; use pass, warn, fail, unknown, skipped or default",
    ),
    "slot read before it is set (text)": Mutation(
        old="    say: No problem. Let's go through the usual causes one by one, starting with the connection.\n",
        new="    say: No problem, {{ domain }}. Let's go through the usual causes one by one.\n",
        needle="No problem, {{ domain }}",
        message="slot `domain` is read here before any step can set it",
    ),
    "slot read before it is set (condition)": Mutation(
        old="      - if: message_mb > max_message_mb\n",
        new="      - if: message_kb > max_message_mb\n",
        needle="message_kb",
        message="slot `message_kb` is read here before any step can set it",
    ),
    "loop with no cap": Mutation(
        old="        next: say_go_through_all\n",
        new=(
            "        next: say_go_through_all\n"
            "      - {id: spin, label: Spin, next: spin_a}\n\n"
            "  spin_a:\n    say: Round we go.\n    next: spin_b\n\n"
            "  spin_b:\n    branch:\n      - if: secure_port == 587\n        next: spin_a\n"
            "      - else: fix_firewall\n"
        ),
        needle="spin_a:\n",
        message="loop with no cap: steps spin_a -> spin_b can repeat forever without asking the customer",
    ),
    "branch without else": Mutation(
        old="      - else: ask_fixed_port\n",
        new="",
        needle="- if: domain\n        next: probe_port_587",
        message="this branch has no `else:` arm",
    ),
    "template syntax error": Mutation(
        old="    say: Checking port 25 on the mail server for {{ domain }}…\n",
        new="    say: Checking port 25 on the mail server for {{ domain }…\n",
        needle="Checking port 25",
        message="template error: unexpected '}'",
    ),
    "condition syntax error": Mutation(
        old="      - if: message_mb > max_message_mb\n",
        new="      - if: message_mb >> max_message_mb\n",
        needle="message_mb >> max_message_mb",
        message="condition error: unexpected '>'",
    ),
    "two choices with one id": Mutation(
        old='      - {id: no, label: "No, skip the check", next: explain_telnet_test}\n',
        new='      - {id: yes, label: "No, skip the check", next: explain_telnet_test}\n',
        needle='{id: yes, label: "No, skip',
        message="two choices have the id `yes`; give one of them a different `id:`",
    ),
    "variable also used as a slot": Mutation(
        old="  max_message_mb: 50\n",
        new="  max_message_mb: 50\n  message_mb: 1\n",
        needle="message_mb: 1",
        message="`message_mb` is both a variable and a slot; rename one",
    ),
    "signal pattern that cannot compile": Mutation(
        old="            - 'blocked using'\n",
        new="            - 'blocked (using'\n",
        needle="'blocked (using'",
        message="the pattern `blocked (using` does not compile: missing ), unterminated subpattern at position 8",
    ),
    "signal code of no known shape": Mutation(
        old="          codes: [5.7.606, 5.7.511, 5.7.510]\n",
        new="          codes: [5.7.606, X999, 5.7.510]\n",
        needle="X999",
        message="`X999` is not a code supportbot can read; write an SMTP reply code like 535",
    ),
    "every choice hidden": Mutation(
        old=(
            '      - {id: yes, label: "Yes, check it", next: probe_port_25}\n'
            '      - {id: no, label: "No, skip the check", next: explain_telnet_test}\n'
        ),
        new=(
            '      - {id: yes, label: "Yes, check it", hidden: true, next: probe_port_25}\n'
            '      - {id: no, label: "No, skip the check", hidden: true, next: explain_telnet_test}\n'
        ),
        needle='- {id: yes, label: "Yes, check it", hidden',
        message="every choice is `hidden:`; show at least one as a button",
    ),
    "subflow that is not loaded": Mutation(
        old="  say_go_through_all:\n    say: No problem. Let's go through the usual causes one by one, starting with the connection.\n",
        new="  say_go_through_all:\n    call: password-reset\n",
        needle="password-reset",
        message="no flow with id `password-reset` is loaded",
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_problem_located_by_the_loader(tmp_path: Path, name: str) -> None:
    mutation = MUTATIONS[name]
    path, text = write_copy(tmp_path, mutation)
    line, column = expected_location(path, text, mutation)
    with pytest.raises(FlowError) as info:
        load_file(path, default_catalogue({"cant-send-email"}))
    found = [(loc.file, loc.line, loc.column, msg) for loc, msg in info.value.problems]
    assert any(
        f == str(path) and (ln, col) == (line, column) and mutation.message in msg
        for f, ln, col, msg in found
    ), found


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_problem_located_by_flows_check(tmp_path: Path, name: str) -> None:
    mutation = MUTATIONS[name]
    path, text = write_copy(tmp_path, mutation)
    line, column = expected_location(path, text, mutation)
    result = flows_check(path)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert any(ln.startswith(f"{path}:{line}:{column}: ") and mutation.message in ln for ln in lines), lines
    assert result.stdout.count("\n") == len(lines)  # one line per problem


def test_reference_flow_has_no_problems() -> None:
    spec, doc = parse_flow(reference_text(), "cant-send-email.yaml")
    assert validate_flow(spec, doc, default_catalogue({"cant-send-email"})) == []


def test_problems_come_in_file_order(tmp_path: Path) -> None:
    text = (
        reference_text()
        .replace("    probe: smtp_25\n", "    probe: smtp_26\n")
        .replace(
            "    next: fix_account_details\n\n  fix_use_587", "    next: fix_acount_details\n\n  fix_use_587"
        )
    )
    path = tmp_path / "two.yaml"
    path.write_text(text)
    with pytest.raises(FlowError) as info:
        load_file(path)
    lines = [loc.line for loc, _ in info.value.problems]
    assert lines == sorted(lines)
    assert position_of(text, "smtp_26")[0] in lines
    assert position_of(text, "fix_acount_details")[0] in lines
    # the say step whose only way out is now broken is a dead end, reported at its own line
    assert position_of(text, "port25_is_open:")[0] in lines


def test_a_loop_through_a_question_needs_no_cap(tmp_path: Path) -> None:
    # A question waits for the customer each time round, so it cannot spin on its own.
    text = reference_text().replace(
        '      - {id: no, label: "No, it still fails", next: escalate_exhausted}\n',
        '      - {id: no, label: "No, it still fails", next: escalate_exhausted}\n'
        '      - {id: again, label: "Start the checks again", next: ask_symptom}\n',
    )
    path = tmp_path / "loop.yaml"
    path.write_text(text)
    assert load_file(path).steps["ask_fixed_blocklist"].choice_index["again"].key == "again"


def test_a_capped_automatic_loop_is_accepted(tmp_path: Path) -> None:
    mutation = MUTATIONS["loop with no cap"]
    _, text = write_copy(tmp_path, mutation)
    capped = text.replace(
        "  spin_a:\n    say: Round we go.\n",
        "  spin_a:\n    say: Round we go.\n    max_visits: 3\n    on_max_visits: fix_firewall\n",
    )
    path = tmp_path / "capped.yaml"
    path.write_text(capped)
    flow = load_file(path)
    assert flow.has_edge("spin_a", "capped")


def test_inputs_count_as_set(tmp_path: Path) -> None:
    mutation = MUTATIONS["slot read before it is set (text)"]
    _, text = write_copy(tmp_path, mutation)
    path = tmp_path / "inputs.yaml"
    path.write_text(text.replace("inputs: [client_ip]", "inputs: [client_ip, domain]"))
    assert "domain" in load_file(path).spec.inputs
