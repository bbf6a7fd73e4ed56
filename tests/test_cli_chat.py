"""`supportbot chat` as a person runs it: no configuration, numbered choices, typed answers, flow folders."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.bootstrap import build_sinks
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def bare_env(**extra: str) -> dict[str, str]:
    """Only what any shell has: no supportbot variables at all."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env.update(extra)
    return env


def chat(
    *args: str, typed: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
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
    assert 'turn on "My outgoing server requires authentication"' in out
    assert "bot: Great, I'm glad it's working!" in out
    assert "  -- conversation resolved; type restart to begin again, or quit --" in out
    assert "Thanks for telling me!" in out
    assert out.rstrip().endswith("Bye!")
    assert "Traceback" not in done.stderr


def test_console_script_is_the_same_command() -> None:
    script = shutil.which("supportbot")
    assert script is not None, "pip install -e . installs the supportbot command"
    done = subprocess.run(
        [script, "chat"],
        cwd=REPO,
        input="human\n",
        capture_output=True,
        text=True,
        env=bare_env(),
        timeout=60,
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
    assert (
        f"flow folder {Path('flows')} does not exist; pass --flows DIR or set SUPPORTBOT_FLOWS" in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_chat_refuses_a_folder_of_broken_flows_naming_the_problem(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "broken.yaml").write_text(
        "id: broken\ntitle: Broken\nversion: 1\nstart: a\nsteps:\n  a:\n    say: hi\n"
    )
    done = chat(typed="", cwd=tmp_path)
    assert done.returncode == 1
    assert "warning: refused flows/broken.yaml:" in done.stderr
    assert "flows/broken.yaml:7:5: a `say` step needs `next:` (the step that follows)" in done.stderr
    assert "no valid flow in flows; run `supportbot flows check flows`" in done.stderr


def test_a_saved_hand_over_is_stored_and_queued_for_the_configured_sink(tmp_path: Path) -> None:
    database = tmp_path / "chat.db"
    env = bare_env(
        DATABASE_URL=f"sqlite:///{database}",
        SUPPORTBOT_ESCALATION_WEBHOOK_URL="http://127.0.0.1:9/hook",  # never called: no worker runs
        SUPPORTBOT_NAMESERVERS="127.0.0.1:9",
    )
    done = chat("--save", typed="human\nquit\n", env=env)
    assert done.returncode == 0, done.stderr
    conv_id = done.stdout.rsplit("supportbot chat --resume ", 1)[1].strip().rstrip(")")
    assert "passing this to a person" in done.stdout
    assert (
        f"  (Saved as {conv_id}; the hand-over is queued for webhook, and `supportbot worker` delivers it.)"
        in done.stdout.splitlines()
    )
    assert "This chat is not saved" not in done.stdout
    with contextlib.closing(sqlite3.connect(database)) as db:
        escalations = db.execute("select id, conversation_id from escalations").fetchall()
        queued = db.execute("select escalation_id, sink, status from outbox").fetchall()
    assert [c for _, c in escalations] == [conv_id]
    assert queued == [(escalations[0][0], "webhook", "pending")]

    listed = subprocess.run(
        [sys.executable, "-m", "bot", "outbox", "list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[1:3] == ["pending", "webhook"]


def test_a_saved_hand_over_with_no_sink_says_it_is_only_stored(tmp_path: Path) -> None:
    database = tmp_path / "chat.db"
    env = bare_env(DATABASE_URL=f"sqlite:///{database}", SUPPORTBOT_NAMESERVERS="127.0.0.1:9")
    done = chat("--save", "--jsonl", typed='{"text": "human"}\n', env=env)
    assert done.returncode == 0, done.stderr
    handed_over = json.loads(done.stdout.splitlines()[-1])
    assert set(handed_over) == {"conversation", "status", "messages", "awaiting"}
    assert [m["type"] for m in handed_over["messages"]] == ["handoff", "text"]
    assert handed_over["messages"][-1]["text"] == (
        f"(Saved as {handed_over['conversation']}, but no escalation sink is set up, so this hand-over is "
        "only stored, not sent to anyone. Set SUPPORTBOT_ESCALATION_WEBHOOK_URL, e-mail or Slack to deliver "
        "hand-overs.)"
    )
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("select conversation_id from escalations").fetchall() == [
            (handed_over["conversation"],)
        ]
        assert db.execute("select count(*) from outbox").fetchone() == (0,)
        # The notice is for the terminal; the stored transcript keeps only the conversation.
        texts = [t for (t,) in db.execute("select text from messages")]
    assert not any(t.startswith("(Saved as") for t in texts)


def test_an_unsaved_hand_over_with_a_webhook_set_says_it_was_not_sent() -> None:
    env = bare_env(SUPPORTBOT_ESCALATION_WEBHOOK_URL="http://127.0.0.1:9/hook")
    done = chat(typed="human\nquit\n", env=env)
    assert done.returncode == 0, done.stderr
    assert (
        "  (This chat is not saved, so this hand-over was not sent to webhook. Run `supportbot chat --save` "
        "to store the conversation and queue hand-overs for `supportbot worker` to deliver.)"
    ) in done.stdout.splitlines()


def test_settings_name_the_same_sinks_the_service_delivers_to() -> None:
    cases = [
        {},
        {"SUPPORTBOT_ESCALATION_WEBHOOK_URL": "https://example.com/hook"},
        {"SUPPORTBOT_ESCALATION_EMAIL": "help@example.com"},  # no SMTP_URL: no e-mail sink
        {"SUPPORTBOT_ESCALATION_EMAIL": "help@example.com", "SMTP_URL": "smtp://127.0.0.1:9"},
        {"SLACK_ESCALATION_CHANNEL": "C123"},  # no bot token: no Slack sink
        {"SLACK_ESCALATION_CHANNEL": "C123", "SLACK_BOT_TOKEN": "xoxb-test"},
        {  # every sink at once, in the order bootstrap builds them
            "SUPPORTBOT_ESCALATION_WEBHOOK_URL": "https://example.com/hook",
            "SLACK_ESCALATION_CHANNEL": "C123",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "ZENDESK_SUBDOMAIN": "acme",
            "ZENDESK_EMAIL": "bot@acme.example",
            "ZENDESK_API_TOKEN": "t",
            "FRESHDESK_DOMAIN": "acme",
            "FRESHDESK_API_KEY": "k",
            "CHATWOOT_URL": "https://chat.acme.example",
            "CHATWOOT_BOT_TOKEN": "t",
            "CHATWOOT_ACCOUNT_ID": "1",
            "SUPPORTBOT_CHATWOOT_SECRET": "s" * 20,
        },
    ]
    for env in cases:
        settings = Settings.from_env(env)
        assert list(settings.escalation_sinks()) == list(build_sinks(settings)), env
