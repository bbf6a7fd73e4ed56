"""The engine: takes one incoming message for a conversation and returns the turn, walking the flow."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from bot.engine import commands, feedback
from bot.engine.compile import CompiledFlow, CompiledStep
from bot.engine.migrate import migrate_conversation
from bot.engine.model import (
    FINAL_STATUSES,
    Awaiting,
    Choice,
    Conversation,
    Frame,
    Incoming,
    Message,
    ProbeView,
    Turn,
)
from bot.engine.probing import ProbePort, ProbeResult, ProgressCallback
from bot.engine.registry import FlowRegistry
from bot.engine.turn import TurnBuilder
from bot.engine.validators import VALIDATORS
from bot.errors import BotError, InputError
from bot.nlu.entities import Entities, customer_domain, extract
from bot.nlu.matcher import Option, match, normalize
from bot.nlu.policy import SHORT_ANSWER_WORDS, Decision

MAX_STEPS_PER_TURN = 100  # a safety net under the validator's loop check

HANDOFF_TEXT = (
    "I'm passing this to a person from our support team. They'll see everything we've covered, "
    "so you won't need to repeat yourself."
)
WAITING_TEXT = "Thanks, I've added that for our support team; a person will reply here."
ENDED_TEXT = 'This conversation has ended. Type "restart" to start again, or "human" to reach a person.'
NOT_SURE_TEXT = "I'm not sure I understood that."
CONFIRM_TEXT = "It sounds like {guess}. Is that right?"
CONFIRM_CHOICES = (Choice("yes", "Yes"), Choice("no", "No, something else"))
REJECTED_TEXT = "Sorry, I got that wrong."
_CONFIRM_OPTIONS = (
    Option("yes", ("yes", "right", "correct", "exactly", "that's it", "yes that's right")),
    Option("no", ("no", "something else", "none of these", "not that", "wrong", "neither", "other")),
)


class Engine:
    """Pure conversation logic over compiled flows; the only I/O is the injected probe port."""

    def __init__(self, registry: FlowRegistry, probes: ProbePort) -> None:
        self.registry = registry
        self.probes = probes

    async def start(
        self,
        conversation_id: str,
        flow_id: str | None = None,
        slots: Mapping[str, Any] | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[Conversation, Turn]:
        """A new conversation on the latest version of the flow, and its opening turn."""
        flow = self.registry.get(flow_id)
        given = {k: v for k, v in (slots or {}).items() if k in flow.spec.inputs}
        conv = Conversation(id=conversation_id, flow_id=flow.id, version=flow.version, slots=given)
        out = TurnBuilder()
        await self._advance(conv, flow, flow.start, out, progress)
        return conv, self._turn(conv, out, None)

    async def handle(
        self, conv: Conversation, incoming: Incoming, progress: ProgressCallback | None = None
    ) -> Turn:
        """Apply one customer message to `conv` (changed in place) and return what the bot answers."""
        migrate_conversation(
            self.registry, conv
        )  # only when the flow's `migrate:` asks, or its version is gone
        flow = self.registry.get(conv.flow_id, conv.version)
        out = TurnBuilder()
        step = flow.steps.get(conv.step)
        user = self._user_message(incoming, step)
        command = commands.command_in(incoming.text, incoming.choice)
        if command is not None and step is not None and incoming.choice in step.choice_index:
            command = None  # a flow's own choice named "back" wins over the global command

        if conv.status in FINAL_STATUSES or conv.status == "with_agent":
            if command == commands.RESTART:
                await self._restart(conv, out, progress)
            elif conv.status == "escalated" or conv.status == "with_agent":
                out.say(WAITING_TEXT)
            elif conv.feedback is not None and feedback.pending(conv.feedback):
                feedback.take(conv.feedback, incoming, out)
            elif command == commands.HUMAN:
                self._escalate(conv, flow, out, "The customer asked for a person after the flow ended.")
            else:
                out.say(ENDED_TEXT)
            return self._turn(conv, out, user)

        if command == commands.RESTART:
            await self._restart(conv, out, progress)
        elif command == commands.HUMAN:
            await self._human(conv, flow, out, progress)
        elif command == commands.BACK:
            await self._back(conv, flow, out, progress)
        elif step is None or step.kind != "ask":
            # Only questions wait for the customer; anything else means the state was edited by hand.
            raise InputError(f"conversation {conv.id} is not waiting at a question (step {conv.step!r})")
        else:
            await self._answer(conv, flow, step, incoming, out, progress)
        return self._turn(conv, out, user)

    async def resume(
        self, conv: Conversation, step: str | None = None, progress: ProgressCallback | None = None
    ) -> Turn:
        """An agent hands the conversation back: continue at `step`, or at the last question the
        customer was on before the hand-over (never back at the welcome, which repeats everything)."""
        migrate_conversation(self.registry, conv)
        flow = self.registry.get(conv.flow_id, conv.version)
        target = step or _last_question(conv, flow) or flow.start
        if target not in flow.steps:
            raise InputError(f"flow {flow.id} has no step {target!r}; pick one of: {', '.join(flow.steps)}")
        conv.status = "active"
        conv.escalation = None
        conv.tries = 0
        out = TurnBuilder()
        out.say("You're back with the support bot. Let's carry on.")
        await self._advance(conv, flow, target, out, progress)
        return self._turn(conv, out, None)

    # -- answering -------------------------------------------------------------------------------

    async def _answer(
        self,
        conv: Conversation,
        flow: CompiledFlow,
        step: CompiledStep,
        incoming: Incoming,
        out: TurnBuilder,
        progress: ProgressCallback | None,
    ) -> None:
        if conv.pending is not None:
            pending, conv.pending = conv.pending, None
            if pending.get("step") == step.id and await self._confirmed(
                conv, flow, step, pending, incoming, out, progress
            ):
                return
        key: str | None = None
        decision: Decision | None = None
        if incoming.choice is not None:
            key = incoming.choice if incoming.choice in step.choice_index else None
        elif incoming.text is not None:
            heard = self._hear(conv, flow, incoming.text)
            if step.understander is not None:
                # The entities heard are the ones the understander reads: extracting them once
                # spares a dozen regular-expression scans of the text per answer.
                decision = step.understander.decide(incoming.text, heard)
                if decision.action == "route":
                    key = decision.choice
                elif decision.action == "confirm" and decision.choice is not None:
                    self._confirm(conv, flow, step, incoming.text, decision, out)
                    return
        if key is not None:
            await self._take(conv, flow, step, key, out, progress)
            return
        context = self._context(flow, conv)
        problem = "That isn't one of the options."
        if decision is not None and len(normalize(incoming.text or "").split()) > SHORT_ANSWER_WORDS:
            problem = NOT_SURE_TEXT
        spec = step.spec
        if spec.slot and incoming.text is not None:
            validator = VALIDATORS[spec.validate_ or "text"]
            try:
                value = validator(incoming.text)
            except ValueError as exc:
                problem = str(exc)
            else:
                conv.slots[spec.slot] = value
                conv.asked.append(step.id)
                conv.tries = 0
                await self._advance(conv, flow, flow.move(step.id, "answer", context), out, progress)
                return
        if decision is not None and incoming.text is not None:
            out.miss(step.id, incoming.text, "reask", decision.choice, decision.score)
        conv.tries += 1
        if conv.tries >= spec.max_tries:
            conv.tries = 0
            if spec.on_invalid:
                await self._advance(conv, flow, flow.move(step.id, "invalid", context), out, progress)
            else:
                self._escalate(
                    conv, flow, out, f"The customer's answers at step {step.id} weren't understood."
                )
            return
        out.say(problem + " " + _reask_hint(step, context))
        out.awaiting = self._awaiting(step, context)

    async def _take(
        self,
        conv: Conversation,
        flow: CompiledFlow,
        step: CompiledStep,
        key: str,
        out: TurnBuilder,
        progress: ProgressCallback | None,
    ) -> None:
        """The customer's answer is the choice `key`: set its slots and follow it."""
        choice = step.choice_index[key]
        if choice.sets:
            conv.slots.update(choice.sets)
        conv.asked.append(step.id)
        conv.tries = 0
        await self._advance(conv, flow, flow.move(step.id, choice.trigger), out, progress)

    def _confirm(
        self,
        conv: Conversation,
        flow: CompiledFlow,
        step: CompiledStep,
        text: str,
        decision: Decision,
        out: TurnBuilder,
    ) -> None:
        """A middling guess: ask "It sounds like … Is that right?" rather than risk a wrong fix."""
        assert decision.choice is not None
        choice = step.choice_index[decision.choice]
        context = self._context(flow, conv)
        guess = choice.confirm(context) if choice.confirm else f"the answer is “{choice.label(context)}”"
        conv.pending = {"step": step.id, "choice": choice.key, "text": text, "score": decision.score}
        out.say(CONFIRM_TEXT.format(guess=guess))
        out.awaiting = Awaiting(kind="choice", choices=CONFIRM_CHOICES)

    async def _confirmed(
        self,
        conv: Conversation,
        flow: CompiledFlow,
        step: CompiledStep,
        pending: dict[str, Any],
        incoming: Incoming,
        out: TurnBuilder,
        progress: ProgressCallback | None,
    ) -> bool:
        """The answer to "Is that right?"; False when the customer said something else instead."""
        text, guess, score = str(pending.get("text", "")), str(pending.get("choice")), pending.get("score")
        if incoming.choice in ("yes", "no"):
            answer: str | None = incoming.choice
        elif incoming.text is not None and len(normalize(incoming.text).split()) <= SHORT_ANSWER_WORDS:
            answer = match(incoming.text, _CONFIRM_OPTIONS)
        else:
            answer = None
        if answer == "yes" and guess in step.choice_index:
            out.miss(step.id, text, "low_confidence", guess, score)
            await self._take(conv, flow, step, guess, out, progress)
            return True
        if answer == "no":
            out.miss(step.id, text, "rejected", guess, score)
            context = self._context(flow, conv)
            out.say(REJECTED_TEXT + " " + _reask_hint(step, context))
            out.awaiting = self._awaiting(step, context)
            return True
        if incoming.choice is not None and incoming.choice in step.choice_index:
            await self._take(conv, flow, step, incoming.choice, out, progress)
            return True
        out.miss(step.id, text, "reask", guess, score)  # they told us something else instead
        return False

    def _hear(self, conv: Conversation, flow: CompiledFlow, text: str) -> Entities | None:
        """Fill the flow's entity slots from what the customer typed; never overwrite an answer.

        The entities read, or None when the flow wants none (then nothing was read).
        """
        wanted = flow.spec.entities
        if not wanted:
            return None
        heard = extract(text)
        found: dict[str, Any] = {}
        if "domain" in wanted and (name := customer_domain(heard)):
            with contextlib.suppress(ValueError):
                found["domain"] = VALIDATORS["domain"](name)
        if "email" in wanted and heard.emails:
            found["email"] = heard.emails[0]
        if "ip" in wanted and heard.listed_ip:
            found["ip"] = heard.listed_ip
        if "dnsbl" in wanted and heard.dnsbls:
            found["dnsbl"] = heard.dnsbls[0]
        for kind, value in found.items():
            conv.slots.setdefault(wanted[kind], value)  # type: ignore[index]
        if "codes" in wanted and heard.codes:
            slot = wanted["codes"]
            known = list(conv.slots.get(slot) or [])
            conv.slots[slot] = known + [c for c in heard.codes if c not in known]
        return heard

    async def _human(
        self, conv: Conversation, flow: CompiledFlow, out: TurnBuilder, progress: ProgressCallback | None
    ) -> None:
        target = flow.spec.on_human
        if target:
            await self._advance(conv, flow, target, out, progress)
        else:
            self._escalate(conv, flow, out, f"The customer asked for a person at step {conv.step}.")

    async def _back(
        self, conv: Conversation, flow: CompiledFlow, out: TurnBuilder, progress: ProgressCallback | None
    ) -> None:
        if not conv.asked:
            out.say("We're at the first question already.")
            step = flow.steps[conv.step]
            context = self._context(flow, conv)
            out.awaiting = self._awaiting(step, context)
            if step.question:
                out.say(step.question(context))
            return
        previous = conv.asked.pop()
        conv.tries = 0
        await self._advance(conv, flow, previous, out, progress)

    async def _restart(self, conv: Conversation, out: TurnBuilder, progress: ProgressCallback | None) -> None:
        root_id, root_version = (
            (conv.stack[0].flow_id, conv.stack[0].version) if conv.stack else (conv.flow_id, conv.version)
        )
        flow = self.registry.get(root_id, root_version)
        conv.flow_id, conv.version = flow.id, flow.version
        conv.slots = {k: v for k, v in conv.slots.items() if k in flow.spec.inputs}
        conv.stack.clear()
        conv.asked.clear()
        conv.visits.clear()
        conv.tries = 0
        conv.status = "active"
        conv.escalation = None
        conv.feedback = None
        conv.pending = None
        out.say("OK, let's start again.")
        await self._advance(conv, flow, flow.start, out, progress)

    # -- walking the flow ------------------------------------------------------------------------

    async def _advance(
        self,
        conv: Conversation,
        flow: CompiledFlow,
        step_id: str,
        out: TurnBuilder,
        progress: ProgressCallback | None,
    ) -> None:
        """Enter `step_id` and keep going through automatic steps until a question or the end."""
        conv.pending = None
        for _ in range(MAX_STEPS_PER_TURN):
            step = flow.steps[step_id]
            visits = conv.visits.get(step_id, 0) + 1
            conv.visits[step_id] = visits
            if step.spec.max_visits and visits > step.spec.max_visits:
                conv.visits[step_id] = 0
                step_id = flow.move(step_id, "capped")
                continue
            conv.step = step_id
            conv.path.append(step_id if not conv.stack else f"{flow.id}:{step_id}")
            context = self._context(flow, conv)
            kind = step.kind
            for say in step.says:
                out.say(say(context), "handoff" if kind == "escalate" else "text")
            if kind == "say":
                step_id = flow.move(step_id, "next")
            elif kind == "ask" and step.spec.skip_if_known and conv.slots.get(str(step.spec.slot)):
                step_id = flow.move(step_id, "answer", context)  # the customer told us already
            elif kind == "ask":
                assert step.question is not None
                out.say(step.question(context))
                out.awaiting = self._awaiting(step, context)
                return
            elif kind == "branch":
                step_id = flow.move(step_id, "branch", context)
            elif kind == "probe":
                result = await self._probe(conv, step, context, progress)
                out.messages.append(
                    Message(
                        role="bot",
                        type="probe",
                        text=result.summary,
                        probe=ProbeView(result.id, result.status, result.summary, result.details),
                    )
                )
                if step.spec.save_as:
                    conv.slots[step.spec.save_as] = result.to_json()
                step_id = flow.move(
                    step_id, _outcome_trigger(flow, step_id, result.status), self._context(flow, conv)
                )
            elif kind == "escalate":
                assert step.reason is not None
                self._escalate(conv, flow, out, step.reason(context), said=bool(step.says))
                return
            elif kind == "end":
                if not conv.stack:
                    conv.status = step.spec.end or "resolved"
                    if flow.variables.get("ask_feedback", True):
                        conv.feedback = feedback.ask(step_id, out)
                    return
                frame = conv.stack.pop()
                trigger = "return"
                caller = self.registry.get(frame.flow_id, frame.version)
                if step.spec.end == "unresolved" and caller.has_edge(frame.return_to, "return_unresolved"):
                    trigger = "return_unresolved"
                conv.flow_id, conv.version = caller.id, caller.version
                conv.asked.clear()
                flow = caller
                step_id = flow.move(frame.return_to, trigger)
            elif kind == "call":
                callee = self.registry.get(step.spec.call)
                conv.stack.append(Frame(flow.id, flow.version, step_id))
                conv.flow_id, conv.version = callee.id, callee.version
                conv.asked.clear()
                flow = callee
                step_id = flow.start
        self._escalate(
            conv,
            flow,
            out,
            f"The flow went round more than {MAX_STEPS_PER_TURN} steps at "
            f"step {step_id}; it needs a loop cap.",
        )

    async def _probe(
        self,
        conv: Conversation,
        step: CompiledStep,
        context: Mapping[str, Any],
        progress: ProgressCallback | None,
    ) -> ProbeResult:
        check = str(step.spec.probe)
        args = {name: render(context) for name, render in step.args.items()}
        try:
            return await self.probes.run(check, args, conversation=conv.id, progress=progress)
        except BotError as exc:  # a refused target (e.g. an internal address) is a finding, not a crash
            return ProbeResult(id=check, status="unknown", summary=str(exc))

    def _escalate(
        self, conv: Conversation, flow: CompiledFlow, out: TurnBuilder, reason: str, *, said: bool = False
    ) -> None:
        conv.pending = None
        conv.status = "escalated"
        conv.escalation = {"reason": reason, "step": conv.step, "flow": flow.id}
        out.escalated = conv.escalation
        out.awaiting = None
        if not said:
            out.say(str(flow.variables.get("handoff_text", HANDOFF_TEXT)), "handoff")

    # -- small helpers ---------------------------------------------------------------------------

    @staticmethod
    def _context(flow: CompiledFlow, conv: Conversation) -> dict[str, Any]:
        return {**flow.variables, **conv.slots}

    @staticmethod
    def _awaiting(step: CompiledStep, context: Mapping[str, Any]) -> Awaiting:
        if step.static_awaiting is not None:
            return step.static_awaiting
        if step.choices:
            return Awaiting(kind="choice", choices=tuple(Choice(c.key, c.label(context)) for c in step.shown))
        return Awaiting(kind="text", hint=step.hint(context) if step.hint else "")

    @staticmethod
    def _user_message(incoming: Incoming, step: CompiledStep | None) -> Message | None:
        if incoming.text is not None:
            return Message(role="user", text=incoming.text)
        if incoming.choice is not None:
            choice = step.choice_index.get(incoming.choice) if step else None
            return Message(role="user", text=choice.label_source if choice else incoming.choice)
        return None

    @staticmethod
    def _turn(conv: Conversation, out: TurnBuilder, user: Message | None) -> Turn:
        return Turn(
            conversation=conv.id,
            status=conv.status,
            messages=tuple(out.messages),
            awaiting=out.awaiting if conv.status in ("active", "resolved", "unresolved") else None,
            step=conv.step,
            escalated=out.escalated,
            feedback=out.feedback,
            user_message=user,
            missed=tuple(out.missed),
        )


def _outcome_trigger(flow: CompiledFlow, step_id: str, status: str) -> str:
    for candidate in (status, "default", "unknown" if status == "skipped" else "default"):
        if flow.has_edge(step_id, f"outcome:{candidate}"):
            return f"outcome:{candidate}"
    return "outcome:unknown"


def _reask_hint(step: CompiledStep, context: Mapping[str, Any]) -> str:
    if step.choices:
        labels = [f"{i}. {c.label(context)}" for i, c in enumerate(step.shown, 1)]
        tail = " You can also type your answer." if step.spec.slot else ""
        return "Please pick one: " + "; ".join(labels) + "." + tail
    if step.spec.hint and step.hint:
        return step.hint(context)
    return ""


def _last_question(conv: Conversation, flow: CompiledFlow) -> str | None:
    """The latest step on the conversation's path that asked the customer something."""
    for step_id in reversed(conv.path):
        step = flow.steps.get(step_id)
        if step is not None and step.kind == "ask":
            return step_id
    return None
