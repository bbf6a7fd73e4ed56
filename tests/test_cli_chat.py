"""`supportbot chat` as a person runs it: no configuration, numbered choices, typed answers, flow folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def bare_env(**extra: str) -> dict[str, str]:
    """Only what any shell has: no supportbot variables at all."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env.update(extra)
    return env


def chat(*args: str, typed: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args],
        cwd=cwd,
        input=typed,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env if env is not None else bare_env(),
        timeout=60,
    )


def test_chat_with_no_configuration_walks_to_a_fix() -> None:
    done = chat(typed="it keeps saying my password is wrong\n2\nyes it works now\n1\n\nquit\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "bot: What happens when you try to send an email?" in out
    assert "  2. It says my username or password is wrong" in out
    assert "StackCP: open your package, choose Email Accounts" in out
    assert "bot: Did that fix it?" in out
    # "2" typed at "Did that fix it?" means "No, it still fails": on to authentication.
    assert "turn on \"My outgoing server requires authentication\"" in out
    assert "bot: Great, I'm glad it's working!" in out
    assert "  -- conversation resolved; type restart to begin again, or quit --" in out
    assert "Thanks for telling me!" in out
    assert out.rstrip().endswith("Bye!")
    assert "Traceback" not in done.stderr


def test_console_script_is_the_same_command() -> None:
    script = shutil.which("supportbot")
    assert script is not None, "pip install -e . installs the supportbot command"
    done = subprocess.run(
        [script, "chat"], cwd=REPO, input="human\n", capture_output=True, text=True, env=bare_env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "passing this to a person" in done.stdout
    assert "-- conversation escalated;" in done.stdout


def test_chat_reads_flows_from_the_folder_given(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    text = (REPO / "flows" / "cant-send-email.yaml").read_text(encoding="utf-8")
    (folder / "custom.yaml").write_text(
        text.replace("id: cant-send-email", "id: custom").replace(
            "What happens when you try to send an email?", "What goes wrong when you send?"
        ),
        encoding="utf-8",
    )
    by_option = chat("--flows", str(folder), "--flow", "custom", typed="quit\n", cwd=tmp_path)
    assert by_option.returncode == 0, by_option.stderr
    assert "bot: What goes wrong when you send?" in by_option.stdout

    by_env = chat(typed="quit\n", cwd=tmp_path, env=bare_env(SUPPORTBOT_FLOWS=str(folder)))
    assert by_env.returncode == 0, by_env.stderr
    assert "bot: What goes wrong when you send?" in by_env.stdout  # the only flow is the default


def test_chat_without_a_flow_folder_says_how_to_fix_it(tmp_path: Path) -> None:
    done = chat(typed="", cwd=tmp_path)
    assert done.returncode == 1
    assert f"flow folder {Path('flows')} does not exist; pass --flows DIR or set SUPPORTBOT_FLOWS" in done.stderr
    assert "Traceback" not in done.stderr


def test_chat_refuses_a_folder_of_broken_flows_naming_the_problem(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: broken\ntitle: Broken\nversion: 1\nstart: a\nsteps:\n  a:\n    say: hi\n")
    done = chat(typed="", cwd=tmp_path)
    assert done.returncode == 1
    assert "warning: refused flows/broken.yaml:" in done.stderr
    assert "flows/broken.yaml:7:5: a `say` step needs `next:` (the step that follows)" in done.stderr
    assert "no valid flow in flows; run `supportbot flows check flows`" in done.stderr
