"""Moves a conversation in progress onto the latest version of its flow, when the lead asks or must."""

from __future__ import annotations

import logging

from bot.engine.compile import CompiledFlow
from bot.engine.model import Conversation
from bot.engine.registry import FlowRegistry
from bot.errors import FlowNotFound

log = logging.getLogger(__name__)


def migrate_conversation(registry: FlowRegistry, conv: Conversation) -> bool:
    """Move `conv` (in place) to the latest version of its flow when that is wanted; True if moved.

    A conversation moves when
    - the latest version has a `migrate:` map (the lead asked for in-progress conversations to move),
      and the conversation's step maps (or keeps its id) to a step of the new version; or
    - its own version is not loaded any more (e.g. the server restarted after an edit), and its step
      exists in the latest version, through `migrate:` or by the same id.
    Otherwise it stays where it is; a conversation whose version is gone and whose step has no place
    in the new version raises FlowNotFound, naming the `migrate:` line that would fix it.
    """
    try:
        latest = registry.get(conv.flow_id)
    except FlowNotFound:
        return False
    if latest.version == conv.version:
        return False
    loaded = conv.version in registry.versions(conv.flow_id)
    if loaded and not latest.spec.migrate:
        return False
    step = _new_step(latest, conv.step, waiting=conv.status == "active")
    if step is None and not loaded and conv.status != "active":
        step = conv.step  # an ended conversation only restarts or escalates; its step is history
    if step is None:
        if loaded:
            return False
        raise FlowNotFound(
            f"conversation {conv.id} is on {conv.flow_id} version {conv.version} at step `{conv.step}`; "
            f"that version is no longer loaded and version {latest.version} has no question `{conv.step}`: "
            f"add `{conv.step}: <new step id>` under `migrate:` in {latest.file}"
        )
    returns: dict[int, str] = {}
    for i, frame in enumerate(conv.stack):
        if frame.flow_id == conv.flow_id and frame.version == conv.version:
            moved = _new_step(latest, frame.return_to, waiting=False)
            if moved is None:
                return False  # a caller we cannot place in the new version: finish on the old one
            returns[i] = moved
    for i, moved in returns.items():
        conv.stack[i].return_to, conv.stack[i].version = moved, latest.version
    log.info(
        "conversation %s moves from %s@%s step %s to @%s step %s",
        conv.id,
        conv.flow_id,
        conv.version,
        conv.step,
        latest.version,
        step,
    )
    mapping = latest.spec.migrate
    conv.version = latest.version
    conv.step = step
    conv.tries = 0
    conv.asked = [mapping.get(s, s) for s in conv.asked if mapping.get(s, s) in latest.steps]
    conv.visits = {mapping.get(s, s): n for s, n in conv.visits.items() if mapping.get(s, s) in latest.steps}
    return True


def _new_step(flow: CompiledFlow, step: str, *, waiting: bool) -> str | None:
    """Where `step` lives in `flow`; a conversation waiting for an answer must land on a question."""
    target = flow.spec.migrate.get(step, step)
    found = flow.steps.get(target)
    if found is None or (waiting and found.kind != "ask"):
        return None
    return target
