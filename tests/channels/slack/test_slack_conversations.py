"""The customer's side: DMs and mentions start threads, buttons and typed replies answer, probes update."""

from __future__ import annotations

import asyncio

from tests.support.slack import DM, GENERAL, SlackWorld, bot_replies, buttons, next_reply, shown


async def test_a_dm_starts_a_conversation_answered_in_its_thread(slack: SlackWorld) -> None:
    sent = await slack.sim.dm("hi, my email is broken")
    ts = sent["event"]["ts"]
    opening = await next_reply(slack, DM, ts, 1)
    assert opening.thread_ts == ts  # the bot answers in a thread under the customer's message
    assert "why your emails aren't sending" in shown(opening)
    assert "choice:cannot_connect" in buttons(opening)
    conversation = await slack.service.find_by_thread("slack", f"T0SUPPORT:{DM}:{ts}")
    assert conversation


async def test_a_mention_in_a_channel_starts_a_conversation_in_a_thread(slack: SlackWorld) -> None:
    sent = await slack.sim.mention("I can't send emails")
    ts = sent["event"]["ts"]
    opening = await next_reply(slack, GENERAL, ts, 1)
    assert opening.thread_ts == ts
    assert "What happens when you try to send an email?" in shown(opening)
    # Chatter in the channel (not in the bot's thread) gets no answer.
    await slack.sim.send(slack.sim.event("event_message_thread", text="lunch?", thread_ts="1.2"))
    await slack.channel.idle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_a_whole_path_by_button_clicks(slack: SlackWorld) -> None:
    ts = (await slack.sim.mention("help"))["event"]["ts"]
    question = await next_reply(slack, GENERAL, ts, 1)
    response = await slack.sim.click(question, "choice:login_rejected")
    assert response.status_code == 200
    fixed = await next_reply(slack, GENERAL, ts, 2)
    # The clicked message now shows the answer and has no buttons left.
    clicked = slack.fake.messages[(GENERAL, question.ts)]
    assert buttons(clicked) == {}
    assert "It says my username or password is wrong" in shown(clicked)
    assert "Email Accounts" in shown(fixed)
    yes = next(a for a in buttons(fixed) if a.startswith("choice:yes"))
    await slack.sim.click(fixed, yes)
    done = await next_reply(slack, GENERAL, ts, 3)
    assert "glad" in shown(done).lower()
    conversation = await slack.service.find_by_thread("slack", f"T0SUPPORT:{GENERAL}:{ts}")
    assert conversation is not None
    transcript = await slack.service.transcript(conversation)
    assert transcript.status == "resolved"


async def test_a_second_click_on_the_same_question_is_not_a_second_answer(slack: SlackWorld) -> None:
    ts = (await slack.sim.mention("help"))["event"]["ts"]
    question = await next_reply(slack, GENERAL, ts, 1)
    await asyncio.gather(
        slack.sim.click(question, "choice:login_rejected"),
        slack.sim.click(question, "choice:stuck_outbox"),
    )
    await next_reply(slack, GENERAL, ts, 2)
    await slack.channel.idle()
    assert len(bot_replies(slack, GENERAL, ts)) == 2


async def test_a_whole_path_by_typed_replies_with_global_commands(slack: SlackWorld) -> None:
    ts = (await slack.sim.dm("hello"))["event"]["ts"]
    await next_reply(slack, DM, ts, 1)
    await slack.sim.reply(DM, ts, "my messages just sit in the outbox")
    firewall = await next_reply(slack, DM, ts, 2)
    assert "firewall" in shown(firewall)
    await slack.sim.reply(DM, ts, "restart")
    again = await next_reply(slack, DM, ts, 3)
    assert "What happens when you try to send an email?" in shown(again)
    await slack.sim.reply(DM, ts, "It keeps telling me my password is wrong")
    await next_reply(slack, DM, ts, 4)
    await slack.sim.reply(DM, ts, "yep, fixed")
    done = await next_reply(slack, DM, ts, 5)
    assert "glad" in shown(done).lower()


async def test_a_probe_step_is_acked_at_once_and_its_result_posted_by_update(slack: SlackWorld) -> None:
    ts = (await slack.sim.mention("help"))["event"]["ts"]
    question = await next_reply(slack, GENERAL, ts, 1)
    await slack.sim.click(question, "choice:cannot_connect")
    await next_reply(slack, GENERAL, ts, 2)
    await slack.sim.reply(GENERAL, ts, "example.com")
    offer = await next_reply(slack, GENERAL, ts, 3)
    # The click is answered (acked) before the probe has run: the handler's work is still ahead.
    response = await slack.sim.click(offer, "choice:yes")
    assert response.status_code == 200
    checking = await next_reply(slack, GENERAL, ts, 4)
    post = next(
        c
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args.get("text", "").startswith(":hourglass_flowing_sand: Checking")
    )
    assert "Checking mail.example.com…" in post.args["text"]
    after = await next_reply(slack, GENERAL, ts, 5)
    assert slack.probes.calls == [("smtp_25", {"domain": "example.com"})]
    checklist = slack.fake.messages[(GENERAL, checking.ts)]
    assert checklist.edits >= 1  # the "checking…" message was updated with the checklist
    text = shown(checklist)
    assert "Checked mail.example.com" in text
    assert ":white_check_mark: mail.example.com answered on port 25." in text
    # The banner is evidence, shown in a context block and escaped.
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "telnet example.com 25" in shown(after)


async def test_a_typed_answer_takes_the_place_of_the_questions_buttons(slack: SlackWorld) -> None:
    ts = (await slack.sim.dm("hi"))["event"]["ts"]
    question = await next_reply(slack, DM, ts, 1)
    assert buttons(question)
    await slack.sim.reply(DM, ts, "It keeps telling me my password is wrong")
    answer = await next_reply(slack, DM, ts, 2)
    retired = slack.fake.messages[(DM, question.ts)]
    assert buttons(retired) == {}  # an old button can no longer answer a question we have left
    assert "It keeps telling me my password is wrong" in shown(retired)
    assert "Email Accounts" in shown(answer) and buttons(answer)  # the new question keeps its own
