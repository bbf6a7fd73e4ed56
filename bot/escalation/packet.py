"""The handoff packet an agent receives: the whole story, built once, rendered as JSON, Slack mrkdwn or HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from bot.engine.model import Conversation

STATUS_WORD = {"pass": "ok", "warn": "warning", "fail": "FAILED", "unknown": "inconclusive"}
STATUS_MARK = {"pass": "✅", "warn": "⚠️", "fail": "❌", "unknown": "❔", "skipped": "⏭️"}
_FIX_STEPS = {  # steps of the reference flow that are fixes the customer tried, in plain words
    "fix_use_587": "switched to port 587",
    "fix_account_details": "checked the username and reset the password",
    "fix_authentication": "turned on SMTP authentication",
    "fix_server_name": "set the outgoing server to mail.{domain}",
    "fix_server_generic": "set the outgoing server name",
    "fix_use_provider_host": "switched to the provider's SMTP host",
    "fix_firewall": "tested with the firewall/antivirus off",
    "fix_daily_limits": "read about the daily limits",
    "fix_size_too_big": "was told to make the message smaller",
    "fix_size_webmail": "was told about the webmail attachment limit",
    "fix_delist": "was told how to request delisting",
    "fix_blocklist_manual": "was told how to check blocklists",
}


def probe_results(conv: Conversation) -> list[dict[str, Any]]:
    """Probe results the conversation saved in slots (each {"id","status","summary","details"})."""
    return [v for v in conv.slots.values() if isinstance(v, dict) and {"id", "status", "summary"} <= v.keys()]


def plain_slots(conv: Conversation) -> dict[str, Any]:
    return {k: v for k, v in conv.slots.items() if not isinstance(v, dict)}


def build_packet(
    conv: Conversation,
    *,
    reason: str,
    channel: str,
    customer: dict[str, Any],
    transcript: Sequence[dict[str, Any]],
    flow_title: str,
) -> dict[str, Any]:
    """Everything an agent needs; the transcript is already redacted when it was stored."""
    probes = probe_results(conv)
    domain = str(conv.slots.get("domain") or "<domain>")
    tried = [_FIX_STEPS[s].replace("{domain}", domain) for s in dict.fromkeys(conv.path) if s in _FIX_STEPS]
    return {
        "conversation": conv.id,
        "flow": {"id": conv.flow_id, "version": conv.version, "title": flow_title},
        "reason": reason,
        "channel": channel,
        "customer": customer,
        "slots": plain_slots(conv),
        "path": list(conv.path),
        "probes": probes,
        "tried": tried,
        "summary": summarise(conv, reason, probes, tried, transcript),
        "transcript": list(transcript),
    }


def summarise(
    conv: Conversation,
    reason: str,
    probes: list[dict[str, Any]],
    tried: list[str],
    transcript: Sequence[dict[str, Any]] = (),
) -> str:
    """One line an agent can read in five seconds: what's wrong, what we saw, what was tried, why."""
    domain = conv.slots.get("domain")
    parts = [f"Customer can't send email{f' from {domain}' if domain else ''}"]
    said = next((m.get("text", "") for m in transcript if m.get("role") == "user"), "")
    if said:
        parts.append(f'first said "{_clip(said, 80)}"')
    for result in probes:
        parts.append(
            f"{result['id']} {STATUS_WORD.get(result['status'], result['status'])}: {result['summary']}"
        )
    codes = conv.slots.get("error_codes")
    if codes and isinstance(codes, list):
        parts.append("error codes " + ", ".join(str(c) for c in codes))
    quoted = conv.slots.get("quoted_ip")
    if quoted:
        listed_by = conv.slots.get("quoted_list")
        parts.append(f"their bounce quotes IP {quoted}" + (f" ({listed_by})" if listed_by else ""))
    ip = conv.slots.get("ip") or conv.slots.get("client_ip")
    if ip:
        parts.append(f"their IP {ip}")
    parts.append("tried: " + (", ".join(tried) if tried else "nothing yet"))
    parts.append(f"why a human: {reason}")
    return "; ".join(p.strip().rstrip(".") for p in parts) + "."


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn_escape(text: str) -> str:
    """Slack's three control characters; `<!channel>` or `<@U123>` typed by a customer stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(packet: dict[str, Any]) -> str:
    e = mrkdwn_escape
    lines = [
        f"*Escalation: {e(packet['flow']['title'])}* (flow `{e(packet['flow']['id'])}` v{e(str(packet['flow']['version']))})",
        f"*Why:* {e(packet['reason'])}",
        f"*Summary:* {e(packet['summary'])}",
        f"*Channel:* {e(packet['channel'])}  *Customer:* {e(_who(packet['customer']))}",
    ]
    if packet["slots"]:
        lines.append(
            "*Answers:* " + ", ".join(f"{e(str(k))}={e(str(v))}" for k, v in packet["slots"].items())
        )
    for result in packet["probes"]:
        mark = STATUS_MARK.get(result["status"], "•")
        lines.append(f"{mark} `{e(result['id'])}` {e(result['summary'])}")
    lines.append("*Path:* " + " → ".join(e(s) for s in packet["path"]))
    lines.append("*Transcript:*")
    for message in packet["transcript"]:
        lines.append(f"> *{e(_speaker(message))}:* {e(message.get('text', ''))}")
    return "\n".join(lines)


def render_html(packet: dict[str, Any]) -> str:
    h = html.escape
    rows = "".join(
        f"<tr><td>{h(_speaker(m))}</td><td>{h(m.get('text', ''))}</td></tr>" for m in packet["transcript"]
    )
    probes = "".join(
        f"<li>{h(p['id'])}: <b>{h(p['status'])}</b> {h(p['summary'])}</li>" for p in packet["probes"]
    )
    return (
        f"<h2>Escalation: {h(packet['flow']['title'])}</h2>"
        f"<p><b>Why:</b> {h(packet['reason'])}</p><p><b>Summary:</b> {h(packet['summary'])}</p>"
        f"<p><b>Customer:</b> {h(_who(packet['customer']))} via {h(packet['channel'])}</p>"
        f"<ul>{probes}</ul><table>{rows}</table>"
    )


def render_text(packet: dict[str, Any]) -> str:
    lines = [
        f"Escalation: {packet['flow']['title']} ({packet['flow']['id']} v{packet['flow']['version']})",
        f"Why: {packet['reason']}",
        f"Summary: {packet['summary']}",
        f"Customer: {_who(packet['customer'])} via {packet['channel']}",
        "",
        "Transcript:",
    ]
    lines.extend(f"  {_speaker(m)}: {m.get('text', '')}" for m in packet["transcript"])
    return "\n".join(lines)


def _who(customer: dict[str, Any]) -> str:
    for key in ("name", "email", "slack_user", "ip"):
        if customer.get(key):
            return str(customer[key])
    return "anonymous"


def _speaker(message: dict[str, Any]) -> str:
    role = message.get("role", "")
    if role == "agent":
        return str((message.get("payload") or {}).get("agent") or message.get("agent") or "Agent")
    return {"user": "Customer", "bot": "Bot"}.get(str(role), str(role))
