"""Loading flow files safely: YAML and schema errors located, unsafe documents refused, last good version kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine.compile import load_file, load_flow
from bot.engine.registry import FlowRegistry
from bot.errors import FlowError
from tests.support.flows import (
    REPO,
    Mutation,
    expected_location,
    flows_check,
    position_of,
    reference_text,
    write_copy,
)

BOMB = "".join(
    f"  {name}: &{name} [{', '.join([f'*{prev}'] * 10) if prev else ', '.join(['x'] * 10)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e"], ["a", "b", "c", "d", "e", "f"], strict=True)
)

MUTATIONS = {
    "yaml syntax: a colon inside a value": Mutation(
        old="    next: ask_symptom\n",
        new="    next: ask_symptom: oops\n",
        needle=": oops",
        message="YAML syntax error: mapping values are not allowed here",
    ),
    "yaml syntax: a tab for indentation": Mutation(
        old="    next: ask_symptom\n",
        new="\tnext: ask_symptom\n",
        needle="\tnext: ask_symptom",
        message="YAML syntax error: found character '\\t' that cannot start any token",
    ),
    "schema: unknown key in a step, with did-you-mean": Mutation(
        old="    hint: example.com\n    on_invalid: explain_telnet_test",
        new="    hnit: example.com\n    on_invalid: explain_telnet_test",
        needle="hnit: example.com",
        message="unknown key `hnit`; did you mean `hint`?",
    ),
    "schema: unknown key at the top, with did-you-mean": Mutation(
        old="start: welcome\n",
        new="start: welcome\nvariabels: {}\n",
        needle="variabels:",
        message="unknown key `variabels`; did you mean `variables`?",
    ),
    "schema: unknown key in a choice, with did-you-mean": Mutation(
        old='      - {id: no, label: "No, skip the check", next: explain_telnet_test}\n',
        new='      - {id: no, lable: "No, skip the check", next: explain_telnet_test}\n',
        needle="lable:",
        message="unknown key `lable`; did you mean `label`?",
    ),
    "schema: a step doing two things": Mutation(
        old="    probe: smtp_25\n",
        new="    probe: smtp_25\n    end: resolved\n",
        needle="say: Checking port 25",
        message="a step does one thing, but this one has probe and end; split it into two steps",
    ),
    "duplicate step id": Mutation(
        old="  # --- Endings",
        new="  welcome:\n    say: Again.\n    next: ask_symptom\n\n  # --- Endings",
        needle="welcome:\n    say: Again.",
        message="'welcome' appears twice here; each key (and step id) must be unique",
    ),
    "duplicate key inside a step": Mutation(
        old="    validate: number\n",
        new="    validate: number\n    validate: text\n",
        needle="validate: text",
        message="'validate' appears twice here",
    ),
    "python tag refused": Mutation(
        old="  control_panel: StackCP\n",
        new='  control_panel: StackCP\n  evil: !!python/object/apply:os.system ["echo pwned"]\n',
        needle="!!python/object",
        message="the tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
    ),
    "merge keys refused": Mutation(
        old="variables:\n",
        new="base: &base {a: 1}\nvariables:\n  <<: *base\n",
        needle="<<: *base",
        message="keys must be plain words (no << merges or complex keys)",
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_problem_located_by_the_loader(tmp_path: Path, name: str) -> None:
    mutation = MUTATIONS[name]
    path, text = write_copy(tmp_path, mutation)
    line, column = expected_location(path, text, mutation)
    with pytest.raises(FlowError) as info:
        load_file(path)
    found = [(loc.file, loc.line, loc.column, msg) for loc, msg in info.value.problems]
    assert any(
        f == str(path) and (ln, col) == (line, column) and mutation.message in msg
        for f, ln, col, msg in found
    ), found
    assert f"{path}:{line}:{column}: " in str(info.value)


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_problem_located_by_flows_check(tmp_path: Path, name: str) -> None:
    mutation = MUTATIONS[name]
    path, text = write_copy(tmp_path, mutation)
    line, column = expected_location(path, text, mutation)
    result = flows_check(path)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert any(ln.startswith(f"{path}:{line}:{column}: ") and mutation.message in ln for ln in lines), lines


def test_alias_bomb_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    text = reference_text().replace("variables:\n", "variables:\n" + BOMB, 1)
    path.write_text(text, encoding="utf-8")
    first, _ = position_of(text, "  a: &a")
    last, _ = position_of(text, "  f: &f")
    with pytest.raises(FlowError, match=r"too many values \(an alias bomb\?\)") as info:
        load_file(path)
    [(location, _)] = info.value.problems
    assert location.file == str(path) and first <= location.line <= last
    result = flows_check(path)
    assert result.exit_code == 1
    assert (
        f"{path}:{location.line}:{location.column}: the document expands to too many values" in result.stdout
    )


def test_oversized_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(reference_text() + "#" + "x" * 300_000 + "\n", encoding="utf-8")
    with pytest.raises(FlowError) as info:
        load_file(path)
    assert [(loc.line, loc.column, msg) for loc, msg in info.value.problems] == [
        (1, 1, "the file is larger than 256 KB; split it into subflows")
    ]
    result = flows_check(path)
    assert result.exit_code == 1
    assert f"{path}:1:1: the file is larger than 256 KB" in result.stdout


def test_deep_nesting_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(
        reference_text().replace("variables:\n", "variables:\n  deep: " + "[" * 60 + "]" * 60 + "\n")
    )
    with pytest.raises(FlowError, match="nested deeper than 40 levels"):
        load_file(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- a list\n- of things\n", "a flow file is a mapping with id, title, version, start, steps"),
        ("id: x\n", "missing required key `title`"),
    ],
)
def test_empty_or_wrong_shaped_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(content)
    with pytest.raises(FlowError, match=message):
        load_file(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(reference_text().replace("Hi!", "H\u00e9!").encode("latin-1", "replace"))
    with pytest.raises(FlowError, match="not UTF-8"):
        load_file(path)


def test_yes_and_no_stay_words(tmp_path: Path) -> None:
    # YAML 1.1 would turn the choice ids `yes`/`no` into booleans; flows use YAML 1.2 booleans.
    flow = load_file(REPO / "flows" / "cant-send-email.yaml")
    assert list(flow.steps["offer_port_probe"].choice_index) == ["yes", "no"]


def test_reference_flow_loads() -> None:
    flow = load_flow(reference_text(), "cant-send-email.yaml")
    assert (flow.id, flow.version, flow.start) == ("cant-send-email", "1", "welcome")
    assert flow.variables["smtp_host"] == "smtp.stackmail.com"


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    text = (
        reference_text()
        .replace(
            "    hint: example.com\n    on_invalid: explain_telnet_test",
            "    hnit: example.com\n    on_invalid: explain_telnet_test",
        )
        .replace("    validate: number\n", "    validate: numbr\n")
    )
    path = tmp_path / "two.yaml"
    path.write_text(text)
    with pytest.raises(FlowError) as info:
        load_file(path)
    lines = [loc.line for loc, _ in info.value.problems]
    assert lines == [position_of(text, "hnit:")[0], position_of(text, "numbr")[0]]


# -- the registry: a broken file is refused, the last good version keeps serving ------------------------


def test_registry_refuses_a_broken_file_and_keeps_the_good_version(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    good = folder / "cant-send-email.yaml"
    good.write_text(reference_text())
    registry = FlowRegistry.load_dir(folder)
    assert registry.ids() == ["cant-send-email"] and registry.refused == {}

    broken, text = write_copy(folder, MUTATIONS["schema: unknown key in a step, with did-you-mean"])
    broken.write_text(text.replace("version: 1", "version: 2"))
    report = registry.reload()
    line, column = position_of(broken.read_text(), "hnit:")
    assert report.loaded == []
    assert report.refused == {
        str(broken): [f"{broken}:{line}:{column}: unknown key `hnit`; did you mean `hint`?"]
    }
    assert registry.get("cant-send-email").version == "1"


# -- the real command line -------------------------------------------------------------------------------


def test_flows_check_on_the_shipped_flows_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "check", "flows/"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "1 flow file(s) OK"


def test_flows_check_subprocess_reports_file_line_col_and_exits_1(tmp_path: Path) -> None:
    mutation = MUTATIONS["schema: unknown key in a step, with did-you-mean"]
    path, text = write_copy(tmp_path, mutation)
    line, column = expected_location(path, text, mutation)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "check", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"{path}:{line}:{column}: unknown key `hnit`; did you mean `hint`?"]
    assert "1 problem(s) in 1 file(s)" in done.stderr


def test_flows_check_names_only_the_broken_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(reference_text().replace("id: cant-send-email", "id: other-flow"))
    broken, _ = write_copy(tmp_path, MUTATIONS["python tag refused"], name="bad.yaml")
    result = flows_check(tmp_path)
    assert result.exit_code == 1
    assert all(line.startswith(f"{broken}:") for line in result.stdout.splitlines())


def test_flows_check_reports_a_flow_id_used_twice(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(reference_text())
    (tmp_path / "b.yaml").write_text(reference_text())
    result = flows_check(tmp_path)
    assert result.exit_code == 1
    line, column = position_of(reference_text(), "cant-send-email\n")
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'b.yaml'}:{line}:{column}: flow id `cant-send-email` is also used by {tmp_path / 'a.yaml'}; "
        "ids must be unique"
    ]


def test_unclosed_bracket_names_the_line_where_it_opened(tmp_path: Path) -> None:
    mutation = Mutation(
        old="    next: ask_symptom\n",
        new="    next: ask_symptom\n    say: [unclosed\n",
        needle="[unclosed",
        message="YAML syntax error",
    )
    path, text = write_copy(tmp_path, mutation)
    line, _ = position_of(text, "[unclosed")
    with pytest.raises(FlowError) as info:
        load_file(path)
    [(location, message)] = info.value.problems
    assert location.line == line or f"line {line}" in message
