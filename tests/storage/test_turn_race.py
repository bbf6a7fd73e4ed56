"""A turn holds nothing while it runs; if another process wrote first, it is redone on the new state."""

from __future__ import annotations

import asyncio

from bot.engine.model import Incoming
from tests.support.held import HeldProbes
from tests.support.storage import REFERENCE_PROBES, running_parts


async def test_a_turn_that_lost_the_race_is_redone_on_the_new_state(database_url: str) -> None:
    gated = HeldProbes(REFERENCE_PROBES)
    async with running_parts(database_url, probes=gated) as slow, running_parts(database_url) as other:
        cid = (await slow.service.start(None, "web")).conversation_id
        await slow.service.reply(cid, Incoming(choice="cannot_connect"))
        await slow.service.reply(cid, Incoming(text="example.com"))
        assert (await slow.service.state(cid)).step == "offer_port_probe"

        # The customer says yes: the port probe starts, and is slow.
        mine = asyncio.create_task(slow.service.reply(cid, Incoming(choice="yes"), "k-yes"))
        async with asyncio.timeout(20):
            await gated.started.wait()
        # Meanwhile the same question is answered through another process, which commits first:
        # the slow turn held no lock, so nothing waits for it.
        theirs = await other.service.reply(cid, Incoming(choice="no"), "k-no")
        after_theirs = await other.service.state(cid)
        assert after_theirs.step != "offer_port_probe"
        gated.release.set()
        answered = await mine

        final = await slow.service.state(cid)
        # The slow turn found the row changed, re-read it and applied "yes" to the new question
        # (there it is no answer, so the bot asks again): each answer stored once, in order.
        assert final.path[: len(after_theirs.path)] == after_theirs.path
        data = await slow.service.transcript(cid)
        users = [m for m in data.messages if m.role == "user"]
        assert len(users) == 4 and [m.text for m in users[-2:]] == ["No, skip the check", "yes"], users
        roles = [m.role for m in data.messages]
        assert all(roles[i + 1] == "bot" for i, r in enumerate(roles) if r == "user"), roles
        assert data.messages[-len(answered.messages) :] == answered.messages
        assert theirs.messages and theirs != answered

        # Retries of either request, through either process, are answered from the stored turns.
        assert await other.service.reply(cid, Incoming(choice="yes"), "k-yes") == answered
        assert await slow.service.reply(cid, Incoming(choice="no"), "k-no") == theirs
        assert (await slow.service.state(cid)).path == final.path
