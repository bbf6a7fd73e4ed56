"""Block Kit rendering of turn objects: text sections, choice buttons, probe checklists."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Block = dict[str, Any]

CHOICE_ACTION_PREFIX = "choice:"
SECTION_LIMIT = 3000  # Slack refuses a section text longer than this
BUTTON_LABEL_LIMIT = 75
BUTTONS_PER_BLOCK = 25
BLOCKS_PER_MESSAGE = 50
DETAIL_LIMIT = 300

STATUS_EMOJI = {
    "pass": ":white_check_mark:",
    "warn": ":warning:",
    "fail": ":x:",
    "unknown": ":grey_question:",
    "skipped": ":heavy_minus_sign:",
}
ROLE_PREFIX = {"agent": ":bust_in_silhouette: ", "user": ""}
_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_BARE = re.compile(r"<([^<>|]+)>")


def escape(text: str) -> str:
    """Slack's three control characters, escaped, so `<!channel>`, `<@U…>` and `<url|x>` stay literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> Block:
    """A mrkdwn section of already-escaped text."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}]}


def plain_text(text: str, limit: int = BUTTON_LABEL_LIMIT) -> dict[str, Any]:
    # plain_text is never parsed for mentions or links, so labels need no escaping.
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def button(action_id: str, label: str, value: str, style: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain_text(label),
        "value": value,
    }
    if style:
        out["style"] = style
    return out


def choice_buttons(choices: Sequence[Mapping[str, Any]]) -> list[Block]:
    """Buttons whose action id carries the choice id (`choice:<id>`), 25 to an actions block."""
    blocks = []
    for start in range(0, len(choices), BUTTONS_PER_BLOCK):
        chunk = choices[start : start + BUTTONS_PER_BLOCK]
        blocks.append(
            {
                "type": "actions",
                "block_id": f"choices-{start // BUTTONS_PER_BLOCK}",
                "elements": [
                    button(CHOICE_ACTION_PREFIX + str(c["id"]), str(c["label"]), str(c["id"])) for c in chunk
                ],
            }
        )
    return blocks


def choice_of(action_id: str) -> str | None:
    """The choice id a button's action id carries, or None for other actions."""
    return action_id[len(CHOICE_ACTION_PREFIX) :] if action_id.startswith(CHOICE_ACTION_PREFIX) else None


def _details(details: Mapping[str, Any] | None) -> str:
    if not details:
        return ""
    parts = []
    for key, value in details.items():
        shown = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        parts.append(f"{escape(str(key))}: {escape(clip(shown, DETAIL_LIMIT))}")
    return "  ·  ".join(parts)


def probe_blocks(probe: Mapping[str, Any]) -> list[Block]:
    """One check: emoji and plain sentence, then the evidence in a context block."""
    emoji = STATUS_EMOJI.get(str(probe.get("status")), ":grey_question:")
    blocks = [section(f"{emoji} {escape(str(probe.get('summary', '')))}")]
    details = _details(probe.get("details"))
    if details:
        blocks.append(context(details))
    return blocks


def checklist(probes: Iterable[Mapping[str, Any]], target: str | None, done: bool) -> tuple[str, list[Block]]:
    """The "Checking example.com…" message, and later the same message with every result."""
    what = escape(target) if target else "your mail setup"
    heading = f"Checked {what}:" if done else f":hourglass_flowing_sand: Checking {what}…"
    blocks = [section(f"*{heading}*")]
    found = list(probes)
    for probe in found:
        blocks.extend(probe_blocks(probe))
    lines = [heading] + [f"{probe.get('status')}: {probe.get('summary')}" for probe in found]
    return "\n".join(lines), blocks[:BLOCKS_PER_MESSAGE]


def message_text(message: Mapping[str, Any]) -> str:
    """One transcript message as escaped mrkdwn (agent messages carry the agent's name)."""
    text = escape(str(message.get("text", "")))
    role = str(message.get("role", "bot"))
    if role == "agent":
        name = escape(str(message.get("agent") or message.get("name") or "Support"))
        return f"{ROLE_PREFIX['agent']}*{name}:* {text}"
    return text


def turn_blocks(turn: Mapping[str, Any], *, probes: bool = True) -> tuple[str, list[Block]]:
    """A turn object as (fallback text, blocks); `probes=False` leaves checks to their own message."""
    blocks: list[Block] = []
    texts: list[str] = []
    for message in turn.get("messages") or ():
        if message.get("type") == "probe":
            if probes and message.get("probe"):
                blocks.extend(probe_blocks(message["probe"]))
                texts.append(str(message.get("text", "")))
            continue
        if message.get("role") == "user":
            continue  # the customer's own words are already in the thread
        blocks.append(section(message_text(message)))
        texts.append(str(message.get("text", "")))
    awaiting = turn.get("awaiting") or {}
    if awaiting.get("kind") == "choice" and awaiting.get("choices"):
        blocks.extend(choice_buttons(awaiting["choices"]))
    elif awaiting.get("kind") == "text" and awaiting.get("hint"):
        blocks.append(context(f"Type your answer in this thread, for example _{escape(awaiting['hint'])}_"))
    if len(blocks) > BLOCKS_PER_MESSAGE:
        # Keep the question and its buttons, which are last.
        blocks = blocks[-BLOCKS_PER_MESSAGE:]
    return escape("\n".join(texts)) or " ", blocks


def answered(blocks: Sequence[Block], label: str, user: str | None) -> list[Block]:
    """The clicked message again, its buttons replaced by the answer chosen (no second answer)."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    who = f" (<@{escape(user)}>)" if user else ""
    kept.append(context(f":ballot_box_with_check: *{escape(label)}*{who}"))
    return kept


def label_of(blocks: Sequence[Block], action_id: str) -> str | None:
    """The label of the button with `action_id` in a message's blocks."""
    for block in blocks:
        for element in block.get("elements") or ():
            if element.get("action_id") == action_id:
                text = element.get("text") or {}
                return str(text.get("text", ""))
    return None


def slack_to_plain(text: str) -> str:
    """An agent's Slack markup as plain text for other channels: links unwrapped, entities decoded."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE.sub(lambda m: m.group(1).lstrip("@#!"), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
