"""The bot as a Chatwoot Agent Bot, end to end against a fake Chatwoot: questions, a probe, the hand-over."""

from __future__ import annotations

import pytest

from bot.channels.chatwoot import parse
from bot.errors import ConfigError, InputError
from bot.settings import Settings
from tests.fakes.chatwoot import BOT_TOKEN, FakeChatwoot
from tests.support.chatwoot import ChatwootWorld

CONV = 42


def texts(world: ChatwootWorld, number: int = CONV) -> list[str]:
    return [m["content"] for m in world.fake.bot_messages(number, private=False)]


async def test_a_conversation_from_first_message_to_a_human_in_chatwoot(chatwoot: ChatwootWorld) -> None:
    fake = chatwoot.fake
    await chatwoot.say(CONV, "my mail program times out when I press send")
    first = fake.of("message")[0]
    assert first.path == f"/api/v1/accounts/7/conversations/{CONV}/messages"
    assert first.headers["api_access_token"] == BOT_TOKEN
    assert first.body["message_type"] == "outgoing" and first.body["private"] is False
    said = texts(chatwoot)
    assert "help you find out why" in said[0]
    # The typed answer was understood: the bot asks for the domain (a typed question, no options).
    assert "Which domain do you send email from" in said[-1]

    await chatwoot.say(CONV, "jo@example.com")
    [offer] = [m for m in fake.bot_messages(CONV) if m["content_type"] == "input_select"][-1:]
    assert "Shall I check" in offer["content"]
    assert [i["value"] for i in offer["content_attributes"]["items"]] == ["yes", "no"]
    assert offer["content_attributes"]["items"][0]["title"] == "Yes, check it"

    before = len(fake.requests)
    await chatwoot.pick(CONV, "yes")
    said = texts(chatwoot)
    checking = next(i for i, t in enumerate(said) if "Checking port 25" in t)
    finding = next(i for i, t in enumerate(said) if t.startswith("✅ ") and "port 25" in t)
    assert checking < finding  # in the order the flow says them
    # While the check ran, Chatwoot showed "typing…"; it was switched off after the answer.
    assert fake.conversation(CONV).typing == ["on", "off"]
    kinds = [r.kind for r in fake.requests[before:] if r.kind in ("typing", "message")]
    assert kinds[0] == "typing" and kinds[-1] == "typing" and "message" in kinds

    before = len(fake.bot_messages(CONV))
    await chatwoot.say(CONV, "human")
    assert any("passing this to a person" in t for t in texts(chatwoot)[before:])
    assert fake.conversation(CONV).status == "pending"  # the hand-over is the outbox's job
    assert await chatwoot.deliver() == 1

    [note] = fake.bot_messages(CONV, private=True)
    assert "Summary:" in note["content"] and "Transcript:" in note["content"]
    assert "my mail program times out" in note["content"] and "smtp_25" in note["content"]
    conv = fake.conversation(CONV)
    assert conv.status == "open"
    assert "supportbot" in conv.labels and any(label.startswith("cause_") for label in conv.labels)
    assert conv.attributes["supportbot_domain"] == "example.com"
    assert "smtp_25 ok" in conv.attributes["supportbot_findings"]
    kinds = [r.kind for r in fake.requests if r.kind != "message"]
    assert kinds.index("note") < kinds.index("status")  # open last: the agent finds the note there

    # While the agent has it, the bot says nothing, whatever the customer or the agent writes.
    before = len(fake.of("message"))
    await chatwoot.send(fake.agent_message(CONV, "Hi Jo, Sam here."))
    await chatwoot.say(CONV, "hello? are you there")
    assert len(fake.of("message")) == before

    # The agent hands it back (pending): the bot picks up where the flow can carry on.
    response = await chatwoot.send(fake.status_changed(CONV, "pending"))
    assert response.status_code == 202
    await chatwoot.channel.idle()
    assert any("back with the support bot" in t for t in texts(chatwoot)[-4:])


async def test_own_messages_and_repeated_deliveries_get_no_second_reply(chatwoot: ChatwootWorld) -> None:
    event = await chatwoot.say(CONV, "my emails won't send")
    posted = len(chatwoot.fake.of("message"))
    assert posted >= 2  # greeting and question; each was echoed back to us as Chatwoot does
    assert len(chatwoot.fake.bot_messages(CONV)) == posted
    for _ in range(2):  # Chatwoot delivered the same event again
        assert (await chatwoot.send(event)).status_code == 202
    await chatwoot.channel.idle()
    assert len(chatwoot.fake.of("message")) == posted


async def test_an_assigned_conversation_is_left_to_the_agent(chatwoot: ChatwootWorld) -> None:
    chatwoot.fake.conversation(CONV).assignee = {"id": 3, "name": "Sam", "type": "user"}
    await chatwoot.say(CONV, "my emails won't send")
    assert chatwoot.fake.of("message") == []


async def test_only_the_shared_secret_opens_the_door(chatwoot: ChatwootWorld) -> None:
    event = chatwoot.fake.incoming(CONV, "hi")
    for token in ("", "wrong", "chatwoot-shared-secret-7f3a9"):
        response = await chatwoot.send(event, token=token)
        assert response.status_code == 401 and "SUPPORTBOT_CHATWOOT_SECRET" in response.json()["error"]
    response = await chatwoot.http.post("/chatwoot/events?token=chatwoot-shared-secret-7f3a9b", content=b"{")
    assert response.status_code == 400
    await chatwoot.channel.idle()
    assert chatwoot.fake.requests == []


async def test_replies_are_retried_when_chatwoot_is_busy(chatwoot: ChatwootWorld) -> None:
    chatwoot.channel.outgoing.base_delay = 0.01
    chatwoot.fake.fail("message", 503, times=2)
    chatwoot.fake.fail("message", 429, headers={"Retry-After": "0"})
    await chatwoot.say(CONV, "my emails won't send")
    said = texts(chatwoot)
    assert "help you find out why" in said[0] and len(said) == len(set(said)) >= 2  # in order, each once
    statuses = [r.status for r in chatwoot.fake.of("message")]
    assert statuses[:4] == [503, 503, 429, 200] and statuses.count(200) == len(said)


async def test_a_retried_hand_over_adds_no_second_note(chatwoot: ChatwootWorld) -> None:
    await chatwoot.say(CONV, "human")
    chatwoot.fake.fail("status", 502)
    assert await chatwoot.deliver() == 0  # the note went in, opening the conversation failed
    assert len(chatwoot.fake.bot_messages(CONV, private=True)) == 1
    from bot.escalation import outbox

    await outbox.retry(chatwoot.parts.driver)  # not dead, but make it due now
    async with chatwoot.parts.driver.write() as s:
        await s.run("UPDATE outbox SET next_attempt_at = 0.0")
    assert await chatwoot.deliver() == 1
    assert len(chatwoot.fake.bot_messages(CONV, private=True)) == 1
    assert chatwoot.fake.conversation(CONV).status == "open"


def test_events_that_are_not_chatwoot_events_are_refused_clearly() -> None:
    with pytest.raises(InputError, match=r"account\.id"):
        parse({"event": "message_created"})
    with pytest.raises(InputError, match="JSON object"):
        parse([1, 2])
    event = parse(FakeChatwoot().incoming(5, "hi"))
    assert event.incoming and event.text == "hi" and event.thread_key == "7:5" and not event.agent_has_it


def test_chatwoot_settings_are_all_or_none_and_checked() -> None:
    good = {
        "CHATWOOT_URL": "https://chat.example.com/",
        "CHATWOOT_BOT_TOKEN": "t",
        "CHATWOOT_ACCOUNT_ID": "3",
        "SUPPORTBOT_CHATWOOT_SECRET": "s" * 24,
    }
    settings = Settings.from_env(good)
    assert (settings.chatwoot_url, settings.chatwoot_account_id) == ("https://chat.example.com", 3)
    assert "chatwoot" in settings.escalation_sinks()
    with pytest.raises(ConfigError, match="CHATWOOT_BOT_TOKEN"):
        Settings.from_env({k: v for k, v in good.items() if k != "CHATWOOT_BOT_TOKEN"})
    with pytest.raises(ConfigError, match=r"CHATWOOT_ACCOUNT_ID='acme' must be the number"):
        Settings.from_env({**good, "CHATWOOT_ACCOUNT_ID": "acme"})
    with pytest.raises(ConfigError, match="SUPPORTBOT_CHATWOOT_SECRET must be at least 16"):
        Settings.from_env({**good, "SUPPORTBOT_CHATWOOT_SECRET": "short"})
    with pytest.raises(ConfigError, match=r"CHATWOOT_URL='chat\.example\.com' must be an http"):
        Settings.from_env({**good, "CHATWOOT_URL": "chat.example.com"})
