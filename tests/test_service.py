"""ConversationService over SQLite and PostgreSQL: turns, idempotency, races, takeover, live events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.engine.model import Conversation, Incoming
from bot.errors import Conflict
from bot.service import PRIVACY_NOTICE, Claimed, ConversationService, Transcript, TurnResult
from tests.support.storage import PYTHON, ROOT, Subscriber, child_env, running_parts, table_rows


async def row_of(service: ConversationService, conversation_id: str) -> Any:
    [row] = await table_rows(service.driver, "conversations", "WHERE id = $1", conversation_id)
    return row


async def state_of(service: ConversationService, conversation_id: str) -> Conversation:
    return Conversation.load((await row_of(service, conversation_id)).state)


def user_texts(transcript: Transcript) -> list[str]:
    return [m.text for m in transcript.messages if m.role == "user"]


def kind_of(turn: TurnResult | Transcript) -> str | None:
    return turn.awaiting.kind if turn.awaiting is not None else None


def choice_ids(turn: TurnResult) -> list[str]:
    return [c.id for c in turn.awaiting.choices] if turn.awaiting is not None else []


async def test_start_reply_transcript_and_token(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        svc = parts.service
        started = await svc.start(None, "web", {"name": "Jo", "email": "jo@example.com"})
        cid = started.conversation_id
        assert started.turn.conversation == cid
        assert kind_of(started.turn) == "choice"

        assert await svc.check_token(cid, started.token)
        assert not await svc.check_token(cid, started.token[:-1] + "x")
        assert not await svc.check_token(cid, "")
        assert not await svc.check_token("c_000000000000000000000000", started.token)
        # Only a hash of the token is stored: a database dump does not hand out access.
        row = await row_of(svc, cid)
        assert started.token not in repr(vars(row))

        turn = await svc.reply(cid, Incoming(choice="cannot_connect"))
        assert turn.status == "active" and kind_of(turn) == "text"
        turn = await svc.reply(cid, Incoming(text="jo@Example.com"))
        assert choice_ids(turn) == ["yes", "no"]

        data = await svc.transcript(cid)
        assert data.conversation == cid and data.status == "active"
        assert data.awaiting == turn.awaiting
        assert user_texts(data)[-1] == "jo@Example.com"
        opening = started.turn.messages
        assert data.messages[: len(opening)] == opening
        assert data.messages[-len(turn.messages) :] == turn.messages

        conv = await state_of(svc, cid)
        assert conv.step == "offer_port_probe" and conv.slots["domain"] == "example.com"
        row = await row_of(svc, cid)
        assert (row.flow_id, row.channel, row.domain, row.turns) == (
            "cant-send-email",
            "web",
            "example.com",
            2,
        )


async def test_same_idempotency_key_is_applied_once(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        svc = parts.service
        cid = (await svc.start(None, "web")).conversation_id
        first = await svc.reply(cid, Incoming(choice="cannot_connect"), idempotency_key="k-1")
        again = await svc.reply(cid, Incoming(choice="cannot_connect"), idempotency_key="k-1")
        assert again == first and again.replayed and not first.replayed
        # A retried text with the same key is not a second answer either (it would fail validation).
        both = await asyncio.gather(
            svc.reply(cid, Incoming(text="example.com"), idempotency_key="k-2"),
            svc.reply(cid, Incoming(text="example.com"), idempotency_key="k-2"),
        )
        assert both[0] == both[1]
        assert user_texts(await svc.transcript(cid)).count("example.com") == 1
        assert (await row_of(svc, cid)).turns == 2
        assert (await state_of(svc, cid)).step == "offer_port_probe"

        # Keys belong to one conversation: another conversation may reuse the same key.
        other = (await svc.start(None, "web")).conversation_id
        turn = await svc.reply(other, Incoming(choice="login_rejected"), idempotency_key="k-1")
        assert turn.conversation == other and turn != first
        keys = [(r.conversation_id, r.idempotency_key) for r in await table_rows(svc.driver, "turns")]
        assert sorted(keys) == sorted([(cid, "k-1"), (cid, "k-2"), (other, "k-1")])


async def check_serialised(svc: ConversationService, cid: str, sent: list[str]) -> None:
    """Every text applied exactly once, each followed by its own answer before the next one starts."""
    data = await svc.transcript(cid)
    assert sorted(user_texts(data)) == sorted(["no idea really", *sent])
    roles = [m.role for m in data.messages]
    first_user = roles.index("user")
    for i in range(first_user, len(roles)):
        if roles[i] == "user":
            # No two customer messages in a row: a turn's answer is never split or lost.
            assert i + 1 < len(roles) and roles[i + 1] == "bot", data.messages
    assert (await row_of(svc, cid)).turns == 1 + len(sent)  # + the first answer


async def test_concurrent_replies_in_one_process_are_serialised(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        svc = parts.service
        cid = (await svc.start(None, "web")).conversation_id
        await svc.reply(cid, Incoming(text="no idea really"))  # -> the domain question
        sent = ["qqq one", "qqq two"]
        await asyncio.gather(*(svc.reply(cid, Incoming(text=t)) for t in sent))
        await check_serialised(svc, cid, sent)
        # Two invalid answers were both counted: a third one moves on to the telnet test.
        assert (await state_of(svc, cid)).tries == 2
        turn = await svc.reply(cid, Incoming(text="qqq three"))
        assert (await state_of(svc, cid)).step == "explain_telnet_test", turn


# A second process taking turns on the same conversation: builds its parts, says "ready", waits for "go".
RIVAL = """
import asyncio, os, sys
from bot.engine.model import Incoming
from tests.support.storage import running_parts

async def main():
    async with running_parts(os.environ["DATABASE_URL"]) as parts:
        print("ready", flush=True)
        sys.stdin.readline()
        for text in sys.argv[2:]:
            await parts.service.reply(sys.argv[1], Incoming(text=text))

asyncio.run(main())
"""


async def test_concurrent_replies_from_two_processes_are_serialised(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        svc = parts.service
        cid = (await svc.start(None, "web")).conversation_id
        await svc.reply(cid, Incoming(text="no idea really"))
        mine = [f"qqq parent {i}" for i in range(6)]
        theirs = [f"qqq child {i}" for i in range(6)]
        rival = await asyncio.create_subprocess_exec(
            PYTHON,
            "-c",
            RIVAL,
            cid,
            *theirs,
            cwd=ROOT,
            env=child_env(DATABASE_URL=database_url),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert rival.stdin is not None and rival.stdout is not None
        try:
            async with asyncio.timeout(60):
                assert await rival.stdout.readline() == b"ready\n"
                rival.stdin.write(b"go\n")
                await rival.stdin.drain()
                for text in mine:
                    await svc.reply(cid, Incoming(text=text))
                _, err = await rival.communicate()
            assert rival.returncode == 0, err.decode()
        finally:
            if rival.returncode is None:
                rival.kill()
                await rival.communicate()
        await check_serialised(svc, cid, mine + theirs)
        data = await svc.transcript(cid)
        # Each process's own texts kept their order.
        said = user_texts(data)
        print("order:", " ".join(t.split()[1][0] for t in said[1:]))
        assert [t for t in said if "parent" in t] == mine and [t for t in said if "child" in t] == theirs


async def test_takeover_claim_agent_message_and_hand_back(database_url: str) -> None:
    # Events are published by one service and heard through another: across processes on
    # PostgreSQL (LISTEN/NOTIFY); SQLite's bus is in-process, so there both sides share one.
    async with running_parts(database_url) as parts, running_parts(database_url) as other:
        svc = parts.service
        listener = other.service if database_url.startswith("postgresql") else svc
        cid = (await svc.start(None, "web", {"name": "Casey"})).conversation_id
        turn = await svc.reply(cid, Incoming(text="human"))
        assert turn.status == "escalated"

        async with Subscriber(listener.events, cid) as sub:
            claimed = await svc.claim(cid, "Sam")
            assert claimed == Claimed(cid, "Sam", "with_agent")
            await sub.wait_for(lambda e: e.get("status") == "with_agent" and e.get("agent") == "Sam")
            joined = await sub.wait_for(lambda e: e.get("message", {}).get("type") == "handoff")
            assert "Sam" in joined["message"]["text"]

            # The bot stays quiet; the customer's words are stored (redacted) and go to the agent.
            turn = await svc.reply(cid, Incoming(text="are you there? my password is hunter2"))
            assert turn.status == "with_agent"
            assert [m.text for m in turn.messages] == [PRIVACY_NOTICE]
            said = await sub.wait_for(lambda e: e.get("message", {}).get("role") == "user")
            assert said["message"]["text"] == "are you there? my password is [redacted]"
            turn = await svc.reply(cid, Incoming(choice="cannot_connect"))
            assert turn.status == "with_agent" and turn.messages == ()

            sent = await svc.agent_message(cid, "Sam", "Hi Casey, looking at it now.")
            assert sent.message.role == "agent" and sent.message.agent == "Sam"
            await sub.wait_for(lambda e: e.get("message", {}).get("role") == "agent")

            data = await svc.transcript(cid)
            assert data.status == "with_agent" and data.agent == "Sam"
            tail = [(m.role, m.text) for m in data.messages[-5:]]
            assert tail[0] == ("bot", "Sam from our support team has joined the conversation.")
            assert tail[1:] == [
                ("user", "are you there? my password is [redacted]"),
                ("bot", PRIVACY_NOTICE),
                ("user", "cannot_connect"),
                ("agent", "Hi Casey, looking at it now."),
            ]

            back = await svc.hand_back(cid, "Sam", step="ask_symptom")
            assert back.status == "active" and kind_of(back) == "choice"
            await sub.wait_for(lambda e: e.get("type") == "status" and e.get("status") == "active")
            await sub.wait_for(lambda e: e.get("message", {}).get("text") == back.messages[-1].text)
            kinds = [e["type"] for e in sub.seen]
            assert kinds.index("status") < kinds.index("message")

        # The bot answers again, from the chosen step.
        turn = await svc.reply(cid, Incoming(choice="login_rejected"))
        assert turn.status == "active"
        assert (await svc.transcript(cid)).agent is None
        assert (await state_of(svc, cid)).step == "ask_fixed_account"


async def test_hand_back_to_the_start_and_to_an_unknown_step(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        svc = parts.service
        cid = (await svc.start(None, "web")).conversation_id
        await svc.reply(cid, Incoming(text="human"))
        await svc.claim(cid, "Sam")
        with pytest.raises(Exception, match="no step"):
            await svc.hand_back(cid, "Sam", step="no_such_step")
        assert (await svc.transcript(cid)).status == "with_agent"
        turn = await svc.hand_back(cid, "Sam")
        assert turn.status == "active"
        assert (await state_of(svc, cid)).step == "ask_symptom"


async def test_threads_are_found_and_unique(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        svc = parts.service
        cid = (
            await svc.start(None, "slack", {"slack_user": "U1"}, thread_key="C1:1700000000.1")
        ).conversation_id
        assert await svc.find_by_thread("slack", "C1:1700000000.1") == cid
        assert await svc.find_by_thread("slack", "C1:1700000000.2") is None
        assert await svc.find_by_thread("web", "C1:1700000000.1") is None
        # One thread is one conversation, even when two processes race to start it.
        with pytest.raises(Conflict):
            await svc.start(None, "slack", {"slack_user": "U1"}, thread_key="C1:1700000000.1")
        assert await svc.find_by_thread("slack", "C1:1700000000.1") == cid


async def test_seen_event_is_decided_by_the_unique_key(database_url: str) -> None:
    async with running_parts(database_url) as one, running_parts(database_url) as two:
        assert await one.service.seen_event("Ev01") is False
        assert await two.service.seen_event("Ev01") is True
        # Four deliveries of one event at once (Slack retries, two processes): exactly one is new.
        answers = await asyncio.gather(
            *(s.seen_event("Ev02") for s in (one.service, two.service, one.service, two.service))
        )
        assert sorted(answers) == [False, True, True, True]


async def test_missed_messages_are_stored_redacted_as_events(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        svc = parts.service
        cid = (await svc.start(None, "web")).conversation_id
        turn = await svc.reply(
            cid, Incoming(text="hello, my email is broken, my password is Secr3t-Horse-99")
        )
        assert kind_of(turn) == "choice" and "not sure I understood" in turn.messages[-1].text
        confirm = await svc.reply(
            cid, Incoming(text="my outlook fails to send, messages just sit in the outbox")
        )
        assert choice_ids(confirm) == ["yes", "no"]
        await svc.reply(cid, Incoming(choice="no"))
        rows = await table_rows(svc.driver, "events", "WHERE conversation_id = $1 AND kind = 'missed'", cid)
        whys = [(r.step, r.data["why"], r.data["guess"]) for r in rows]
        assert whys[0][:2] == ("ask_symptom", "reask")
        assert whys[1] == ("ask_symptom", "rejected", "stuck_outbox")
        assert "Secr3t-Horse-99" not in str(rows) and "[redacted]" in rows[0].data["text"]
        assert rows[1].data["text"] == "my outlook fails to send, messages just sit in the outbox"
