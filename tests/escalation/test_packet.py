"""The handoff packet of a real run through the reference flow, rendered as JSON, Slack mrkdwn and HTML."""

from __future__ import annotations

import json
from typing import Any

from bot.engine.model import Incoming
from bot.escalation.packet import mrkdwn_escape, render_html, render_markdown, render_text
from bot.service import ConversationService
from tests.support.storage import running_parts, table_rows

HOSTILE = "my mail program times out <@U123> <!channel> & <https://evil.example|click>"

# The reference flow from "it times out" to a person: every cause tried, the IP found on a blocklist.
RUN = [
    Incoming(text=HOSTILE),
    Incoming(text="casey@example.com"),
    Incoming(choice="yes"),  # check port 25 from our side: passes
    Incoming(choice="no_reply"),  # telnet from home fails -> switch to 587 (checked: passes)
    Incoming(choice="no"),  # 587 didn't help
    Incoming(choice="no"),  # account details
    Incoming(choice="no"),  # authentication
    Incoming(choice="no"),  # no server check
    Incoming(choice="no"),  # server name
    Incoming(choice="no"),  # firewall
    Incoming(choice="neither"),  # limits
    Incoming(choice="yes"),  # check my IP
    Incoming(text="203.0.113.7"),  # listed on zen.spamhaus.org
    Incoming(choice="no"),  # delisting advice didn't help yet
]


async def reference_packet(svc: ConversationService) -> dict[str, Any]:
    cid = (
        await svc.start(None, "web", {"name": "Casey <!channel>", "email": "casey@example.com"})
    ).conversation_id
    for incoming in RUN:
        turn = await svc.reply(cid, incoming)
    assert turn.status == "escalated"
    [row] = await table_rows(svc.driver, "escalations", "WHERE conversation_id = $1", cid)
    return dict(row.packet)


async def test_reference_run_packet_has_the_whole_story(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        packet = await reference_packet(parts.service)
    assert packet["flow"] == {"id": "cant-send-email", "version": "1", "title": "I can't send emails"}
    assert "every usual cause" in packet["reason"]
    assert packet["channel"] == "web" and packet["customer"]["email"] == "casey@example.com"
    assert packet["slots"]["domain"] == "example.com" and packet["slots"]["ip"] == "203.0.113.7"
    assert packet["path"][0] == "welcome" and packet["path"][-1] == "escalate_exhausted"
    assert {p["id"]: p["status"] for p in packet["probes"]} == {
        "smtp_25": "pass",
        "smtp_587": "pass",
        "ip_blocklist": "fail",
    }
    assert "switched to port 587" in packet["tried"]
    summary = packet["summary"]
    for fact in ("example.com", "587", "203.0.113.7", "zen.spamhaus.org", "switched to port 587"):
        assert fact in summary, fact
    users = [m["text"] for m in packet["transcript"] if m["role"] == "user"]
    assert users[0] == HOSTILE and len(users) == len(RUN)
    # JSON: the packet round-trips exactly (it is what the webhook sends).
    assert json.loads(json.dumps(packet)) == packet


async def test_renderings_keep_customer_text_literal(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        packet = await reference_packet(parts.service)
    markdown = render_markdown(packet)
    print("\n" + markdown)
    # Slack mrkdwn: no mention, broadcast or link survives from customer text.
    for live in ("<!channel>", "<@U123>", "<https://evil.example|click>"):
        assert live not in markdown
    assert "&lt;@U123&gt; &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in markdown
    assert "Casey &lt;!channel&gt;" in markdown
    assert markdown.count("\n> *Customer:*") == len(RUN)
    assert "203.0.113.7 is listed on zen.spamhaus.org." in markdown

    page = render_html(packet)
    assert "<!channel>" not in page and "<@U123>" not in page
    assert "&lt;@U123&gt; &lt;!channel&gt; &amp;amp;" not in page  # escaped once, not twice
    assert "&lt;@U123&gt; &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in page
    assert "Casey &lt;!channel&gt;" in page

    text = render_text(packet)
    assert HOSTILE in text and packet["summary"] in text


def test_mrkdwn_escape_leaves_nothing_for_slack_to_parse() -> None:
    assert mrkdwn_escape("<!here> <#C1> a & b > c") == "&lt;!here&gt; &lt;#C1&gt; a &amp; b &gt; c"


def test_the_summary_names_pasted_codes_and_the_quoted_address() -> None:
    from bot.engine.model import Conversation
    from bot.escalation.packet import build_packet

    conv = Conversation(
        id="c_1",
        flow_id="cant-send-email",
        version="1",
        slots={"error_codes": ["550", "5.7.1"], "quoted_ip": "81.2.69.142", "quoted_list": "Spamhaus"},
    )
    packet = build_packet(conv, reason="r", channel="web", customer={}, transcript=[], flow_title="t")
    assert "error codes 550, 5.7.1" in packet["summary"]
    assert "their bounce quotes IP 81.2.69.142 (Spamhaus)" in packet["summary"]
    assert packet["slots"]["error_codes"] == ["550", "5.7.1"]
