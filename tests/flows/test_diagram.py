"""Diagrams: every step coloured by kind, every transition of the compiled machine drawn and labelled."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine.compile import CompiledFlow, load_flow
from bot.engine.registry import FlowRegistry
from bot.flows.diagram import KIND_COLOURS, DiagramError, arrows, to_dot, to_mermaid, to_svg
from tests.support.flows import REPO

SMALL = textwrap.dedent(
    """\
    id: small
    title: Small
    version: 3
    start: ask_domain
    steps:
      ask_domain:
        ask: Your domain?
        slot: domain
        validate: domain
        next: probe_port
      probe_port:
        probe: smtp_587
        args: {domain: "{{ domain }}"}
        save_as: port
        outcomes: {pass: ask_done, fail: pick, default: handoff}
      pick:
        branch:
          - if: port.summary == "a \\"quoted\\"; thing"
            next: tell
          - else: handoff
      tell:
        say: Use mail.{{ domain }}.
        next: ask_done
      ask_done:
        ask: Did mail.{{ domain }} work?
        choices:
          - {id: yes, label: "Yes, mail.{{ domain }} works", next: done}
          - {id: no, label: "No", next: handoff}
      done:
        end: resolved
      handoff:
        escalate: Port 587 on the customer's mail server did not answer from our side.
    """
)


@pytest.fixture(scope="module")
def reference() -> CompiledFlow:
    return FlowRegistry.load_dir(REPO / "flows").get("cant-send-email")


@pytest.fixture(scope="module")
def small() -> CompiledFlow:
    return load_flow(SMALL, "small.yaml")


def test_mermaid_colours_every_step_by_kind(reference: CompiledFlow) -> None:
    text = to_mermaid(reference)
    assert text.startswith(f'---\ntitle: "{reference.title} (cant-send-email v{reference.version})"\n---\n')
    assert "stateDiagram-v2\n  direction TB\n" in text
    for kind, (fill, stroke, colour) in KIND_COLOURS.items():
        assert f"  classDef s_{kind} fill:{fill},stroke:{stroke},color:{colour}\n" in text
    for step_id, step in reference.steps.items():
        assert re.search(rf'^  state "{step_id}[^"]*" as {step_id}$', text, re.MULTILINE), step_id
        assert f"\n  class {step_id} s_{step.kind}\n" in text
    assert "\n  [*] --> welcome\n" in text
    assert "\n  end_resolved --> [*]\n" in text and "\n  escalate_exhausted --> [*]\n" in text


def test_mermaid_draws_every_edge_with_its_label(reference: CompiledFlow) -> None:
    text = to_mermaid(reference)
    drawn = re.findall(r"^  (\w+) --> (\w+)(?:: (.*))?$", text, re.MULTILINE)
    pairs = {(source, target) for source, target, _ in drawn}
    assert pairs == {(e.source, e.target) for e in reference.edges}
    labels = {(s, t): label for s, t, label in drawn}
    assert labels[("ask_symptom", "fix_account_details")] == "It says my username or password is wrong"
    assert labels[("probe_port_25", "port25_open_here")] == "pass | warn"
    assert labels[("size_branch", "fix_size_too_big")] == "message_mb > max_message_mb"
    assert labels[("ask_domain_for_ports", "offer_port_probe")] == "typed domain"
    assert labels[("welcome", "ask_symptom")] == ""  # a plain `next:` needs no words


def test_arrows_come_from_the_compiled_machine(small: CompiledFlow) -> None:
    machine_transitions = sum(len(ts) for e in small.machine.events.values() for ts in e.transitions.values())
    assert len(arrows(small)) == machine_transitions == len(small.edges)
    labels = {(a.source, a.target): a.label for a in arrows(small)}
    assert labels[("ask_done", "done")] == "Yes, mail.domain works"  # templates shown by name
    assert (
        labels[("pick", "tell")] == "port.summary == 'a \\'quoted\\', thing'"
    )  # no quote or ; breaks a line
    assert labels[("probe_port", "handoff")] == "default"


def test_dot_colours_steps_and_labels_edges(small: CompiledFlow) -> None:
    text = to_dot(small)
    assert text.startswith('digraph "small" {\n')
    fill, stroke, colour = KIND_COLOURS["probe"]
    assert (
        f'  "probe_port" [label="probe_port (check smtp_587)", fillcolor="{fill}", color="{stroke}", '
        f'fontcolor="{colour}"];' in text
    )
    assert '"pick" [label="pick", fillcolor=' in text and "shape=diamond" in text
    assert '  "ask_done" -> "done" [label="Yes, mail.domain works"];' in text
    assert '  "tell" -> "ask_done";' in text
    assert text.count(" -> ") == len(small.edges) + 1  # and the start arrow
    assert text.rstrip().endswith("}")


def test_svg_without_graphviz_says_what_to_install(
    small: CompiledFlow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DiagramError, match=r"SVG needs Graphviz's `dot` program, which is not installed"):
        to_svg(small)
    result = CliRunner().invoke(main, ["flows", "graph", "--flows", str(REPO / "flows"), "--format", "svg"])
    assert result.exit_code == 1 and "install Graphviz" in result.stderr


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_with_graphviz(small: CompiledFlow) -> None:
    assert "<svg" in to_svg(small)


def test_graph_command_prints_or_writes_the_diagram(reference: CompiledFlow, tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(main, ["flows", "graph", "cant-send-email", "--flows", str(REPO / "flows")])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == to_mermaid(reference)
    flow_file = tmp_path / "small.yaml"
    flow_file.write_text(SMALL)
    out = tmp_path / "small.dot"
    written = runner.invoke(main, ["flows", "graph", str(flow_file), "--format", "dot", "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_text() == to_dot(load_flow(SMALL, str(flow_file)))


def test_the_committed_diagram_of_the_reference_flow_is_current(reference: CompiledFlow) -> None:
    assert (REPO / "docs" / "flow.mmd").read_text(encoding="utf-8") == to_mermaid(reference), (
        "docs/flow.mmd is stale: run `supportbot flows graph -o docs/flow.mmd`"
    )
