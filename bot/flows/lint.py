"""Warnings about flows that load but will confuse customers or agents: style and likely mistakes."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path as FsPath

import re2
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.errors import FlowError, Location
from bot.flows.graph import flow_edges
from bot.flows.loader import parse_flow_shape, read_text
from bot.flows.reads import Reads, TemplateProblem, condition_reads, text_reads
from bot.flows.shapes import OUTCOMES, ChoiceShape, FlowShape
from bot.flows.validate import _cycles
from bot.flows.yamlsafe import Document, Path
from bot.nlu.signals import PATTERN_FLAGS, SignalError, compile_pattern, normalize_code

MAX_MESSAGE_CHARS = 400  # about 70 words: what fits a phone screen without scrolling
MAX_LABEL_CHARS = 60  # a button label that wraps over three lines stops reading as a button
SIMILAR_LABELS = 85  # rapidfuzz ratio (0-100) above which two labels read as the same answer
MIN_REASON_WORDS = 4
ENGINE_VARIABLES = frozenset({"handoff_text", "ask_feedback"})  # read by the engine, not by templates
PROBE_FIELDS = ("id", "status", "summary", "details")
SCHEMA_LINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S+")
IGNORE = re.compile(r"#\s*lint:\s*ignore\b([\w\s,-]*)")

# Words in a fix that only hold when the check passed: sending `unknown` there tells the customer
# something nobody verified.
_SUCCESS_CLAIM = re.compile(
    r"\b(answers|answered|is open|are open|isn't blocked|is not blocked|exists|isn't listed|"
    r"is not listed|not on the blocklists?|isn't on|is fine|looks (?:good|fine|ok)|passed|"
    r"from here|from our side|I checked|we checked|checks out)\b",
    re.IGNORECASE,
)
_VAGUE_WORDS = frozenset(
    {
        *("a", "an", "the", "to", "for", "of", "and", "or", "is", "it", "this", "that", "please"),
        *("need", "needs", "escalate", "escalation", "escalated", "help", "human", "person", "agent"),
        *("support", "staff", "customer", "user", "issue", "problem", "error", "failed", "failure"),
        *("other", "unknown", "misc", "todo", "tbd", "na", "n/a", "none", "stuff", "something", "wrong"),
    }
)


@dataclass(frozen=True)
class LintWarning:
    """One warning: where, what and how to fix it; `rule` names it for `# lint: ignore <rule>`."""

    location: Location
    message: str
    rule: str
    step: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: warning: {self.message} [{self.rule}]"


RULES = (
    "long-text",
    "similar-choices",
    "uncapped-loop",
    "unused-variable",
    "vague-escalation",
    "unknown-as-pass",
    "typo",
    "schema-line",
    "overlapping-signals",
)


def lint_flow(flow: FlowShape, doc: Document, text: str | None = None) -> list[LintWarning]:
    """Every warning for one parsed flow, in file order; `text` enables the schema-line rule and ignores."""
    linter = _Linter(flow, doc)
    linter.run()
    found = linter.warnings
    if text is not None:
        found += _schema_line(text, doc.file)
        ignored = _ignores(text)
        step_lines = {s: doc.where(("steps", s), key=True).line for s in flow.steps}
        found = [w for w in found if not _is_ignored(w, ignored, step_lines)]
    return sorted(found, key=lambda w: (w.location.line, w.location.column, w.message))


def lint_files(files: Iterable[FsPath]) -> list[LintWarning]:
    """Warnings for every file that parses; files with YAML or schema errors are left to `flows check`."""
    warnings: list[LintWarning] = []
    for path in files:
        try:
            text = read_text(path)
            flow, doc = parse_flow_shape(text, str(path))
        except FlowError:
            continue
        warnings.extend(lint_flow(flow, doc, text))
    return warnings


class _Linter:
    def __init__(self, flow: FlowShape, doc: Document) -> None:
        self.flow = flow
        self.doc = doc
        self.warnings: list[LintWarning] = []
        self.edges = [e for e in flow_edges(flow) if e.target in flow.steps]

    def warn(self, path: Path, rule: str, message: str, *, key: bool = False) -> None:
        step = str(path[1]) if len(path) > 1 and path[0] == "steps" else None
        self.warnings.append(LintWarning(self.doc.where(path, key=key), message, rule, step))

    def run(self) -> None:
        self.long_text()
        self.similar_choices()
        self.uncapped_loops()
        self.unused_variables()
        self.vague_escalations()
        self.unknown_as_pass()
        self.similar_step_ids()
        self.probe_field_typos()
        self.overlapping_signals()

    def long_text(self) -> None:
        for step_id, step in self.flow.steps.items():
            base: Path = ("steps", step_id)
            says = step.messages
            for i, message in enumerate(says):
                path = (*base, "say", i) if isinstance(step.say, list) else (*base, "say")
                self._too_long(path, message)
            if step.ask:
                self._too_long((*base, "ask"), step.ask)
            for i, choice in enumerate(step.choices or ()):
                if len(choice.label) > MAX_LABEL_CHARS:
                    self.warn(
                        (*base, "choices", i, "label"),
                        "long-text",
                        f"this choice label is {len(choice.label)} characters; buttons read best under "
                        f"{MAX_LABEL_CHARS}: shorten it and move the detail into `synonyms:` or the question",
                    )

    def _too_long(self, path: Path, message: str) -> None:
        if len(message) > MAX_MESSAGE_CHARS:
            self.warn(
                path,
                "long-text",
                f"this message is {len(message)} characters; customers skim, keep each under "
                f"{MAX_MESSAGE_CHARS}: shorten it, or split it into a list of `say:` messages",
            )

    def similar_choices(self) -> None:
        for step_id, step in self.flow.steps.items():
            choices = step.choices or []
            # Each choice's words made plain once, not once per pair.
            labels = [_plain(c.label) for c in choices]
            terms = [_terms(c.label, c.synonyms) for c in choices]
            for j, later in enumerate(choices):
                for i in range(j):
                    earlier = choices[i]
                    score = fuzz.ratio(labels[i], labels[j])
                    if score >= SIMILAR_LABELS:
                        self.warn(
                            ("steps", step_id, "choices", j, "label"),
                            "similar-choices",
                            f"choice `{later.label}` reads almost like `{earlier.label}`; customers can't "
                            "tell them apart and typed answers may pick the wrong one: reword one of them",
                        )
                        break
                    shared = sorted(terms[i] & terms[j])
                    if shared:
                        self.warn(
                            ("steps", step_id, "choices", j),
                            "similar-choices",
                            f"`{shared[0]}` is a label or synonym of both `{earlier.key}` and `{later.key}`; "
                            "a customer who types it always gets the first: keep it on one choice only",
                        )
                        break

    def overlapping_signals(self) -> None:
        """Two choices of a question named by the same code, or a pattern that fits another choice's words."""
        for step_id, step in self.flow.steps.items():
            choices = step.choices or []
            clashes = _pattern_clashes(choices)
            owner: dict[str, str] = {}
            for i, choice in enumerate(choices):
                signals = choice.signals
                if signals is None:
                    continue
                for j, code in enumerate(signals.codes):
                    code = normalize_code(code)
                    if code in owner and owner[code] != choice.key:
                        self.warn(
                            ("steps", step_id, "choices", i, "signals", "codes", j),
                            "overlapping-signals",
                            f"code `{code}` names both `{owner[code]}` and `{choice.key}`, so it decides "
                            "neither: keep it on the choice it surely means, or drop it",
                        )
                    owner.setdefault(code, choice.key)
                for j, source in enumerate(signals.patterns):
                    clash = clashes.get((i, j))
                    if clash:
                        other, text = clash
                        self.warn(
                            ("steps", step_id, "choices", i, "signals", "patterns", j),
                            "overlapping-signals",
                            f"pattern `{source}` of `{choice.key}` also matches `{text}`, an example of "
                            f"`{other}`: narrow the pattern, or move the example",
                        )

    def uncapped_loops(self) -> None:
        # Loops of automatic steps are errors (validate.py); a loop through a question waits for the
        # customer each time, so it is legal, but without a cap a confused customer goes round forever.
        edges = [e for e in self.edges if e.trigger != "capped"]
        for component in _cycles(list(self.flow.steps), edges):
            steps = [self.flow.steps[s] for s in component]
            if any(s.max_visits for s in steps) or not any(s.kind == "ask" for s in steps):
                continue
            first = min(component, key=lambda s: self.doc.where(("steps", s), key=True).line)
            self.warn(
                ("steps", first),
                "uncapped-loop",
                f"steps {' -> '.join(sorted(component))} can loop back to `{first}` with no cap, so a "
                "customer can go round the same questions forever; give one of them `max_visits:` and "
                "`on_max_visits:` (e.g. escalate after 3 rounds)",
                key=True,
            )

    def unused_variables(self) -> None:
        read: set[str] = set(ENGINE_VARIABLES)
        for _path, source, condition in _texts(self.flow):
            reads = _reads(source, condition)
            if reads is not None:
                read |= reads.names
        for name in self.flow.variables:
            if name not in read:
                self.warn(
                    ("variables", name),
                    "unused-variable",
                    f"variable `{name}` is never used; put it in a text as {{{{ {name} }}}} or delete it",
                    key=True,
                )

    def vague_escalations(self) -> None:
        for step_id, step in self.flow.steps.items():
            if step.kind != "escalate":
                continue
            reason = str(step.escalate)
            words = re.findall(r"[a-z0-9/']+", re.sub(r"\{\{.*?\}\}", " x ", reason.lower()))
            telling = [w for w in words if w not in _VAGUE_WORDS]
            if len(words) < MIN_REASON_WORDS or len(telling) < 2:
                self.warn(
                    ("steps", step_id, "escalate"),
                    "vague-escalation",
                    f"the reason `{reason.strip()}` is too vague for the person who picks this up; say what "
                    "was tried and found, e.g. `Port 587 did not answer after the customer switched to it`",
                )

    def unknown_as_pass(self) -> None:
        for step_id, step in self.flow.steps.items():
            if step.kind != "probe":
                continue
            outcomes = step.outcomes or {}
            on_pass = outcomes.get("pass", outcomes.get("default"))
            on_unknown = outcomes.get("unknown", outcomes.get("default"))
            target = self.flow.steps.get(on_unknown or "")
            if on_unknown is None or on_unknown != on_pass or target is None or target.kind != "say":
                continue
            claim = _SUCCESS_CLAIM.search(" ".join(target.messages))
            if claim is None:
                continue
            where = ("steps", step_id, "outcomes", "unknown" if "unknown" in outcomes else "default")
            self.warn(
                where,
                "unknown-as-pass",
                f"when probe `{step.probe}` can't tell (`unknown`), this goes to `{on_unknown}` like a pass, "
                f'but that step says the check succeeded ("{claim.group(0)}"); send `unknown` to a step '
                "that works without the result, e.g. one explaining how to test it by hand",
            )

    def similar_step_ids(self) -> None:
        ids = list(self.flow.steps)
        for j, later in enumerate(ids):
            for earlier in ids[:j]:
                if _one_typo_apart(earlier, later):
                    line = self.doc.where(("steps", earlier), key=True).line
                    self.warn(
                        ("steps", later),
                        "typo",
                        f"step `{later}` is named almost like `{earlier}` (line {line}); if it is a typo, "
                        f"did you mean `{earlier}`? If not, rename one so they are easy to tell apart",
                        key=True,
                    )
                    break

    def probe_field_typos(self) -> None:
        # `port25.stauts == 'pass'` is silently false for ever: the sandbox reads a missing field as empty.
        results = {s.save_as for s in self.flow.steps.values() if s.kind == "probe" and s.save_as}
        for path, source, condition in _texts(self.flow):
            reads = _reads(source, condition)
            if reads is None:
                continue
            for name, attr in reads.attributes:
                if name in results and attr not in PROBE_FIELDS:
                    self.warn(
                        path,
                        "typo",
                        f"a probe result has no field `{attr}`"
                        + _did_you_mean(attr, PROBE_FIELDS, f"it has {', '.join(PROBE_FIELDS)}"),
                    )
            for comparison in reads.comparisons:
                if not comparison.status_of & results:
                    continue
                for value in comparison.literals:
                    if value not in OUTCOMES:
                        self.warn(
                            path,
                            "typo",
                            f"a probe status is never `{value}`"
                            + _did_you_mean(value, OUTCOMES, f"it is one of {', '.join(OUTCOMES)}"),
                        )


def _pattern_clashes(choices: Sequence[ChoiceShape]) -> dict[tuple[int, int], tuple[str, str]]:
    """For pattern `j` of choice `i`: the first (choice, text) of another choice that it matches.

    One RE2 set holds every pattern of the question, so each text is searched once for all of them
    (a pattern at a time took 23,000 searches on the reference flow)."""
    owners: list[tuple[int, int, str]] = []
    matcher = re2.Set.SearchSet()
    for i, choice in enumerate(choices):
        for j, source in enumerate(choice.signals.patterns if choice.signals else ()):
            try:
                compile_pattern(source)
            except SignalError:
                continue  # reported by validation already
            matcher.Add(PATTERN_FLAGS + source)
            owners.append((i, j, choice.key))
    if not owners:
        return {}
    matcher.Compile()
    clashes: dict[tuple[int, int], tuple[str, str]] = {}
    for other in choices:
        for text in (other.label, *other.synonyms, *other.examples):
            for index in matcher.Match(" ".join(text.split())) or ():
                i, j, key = owners[index]
                if key != other.key and (i, j) not in clashes:
                    clashes[(i, j)] = other.key, text if len(text) <= 80 else text[:79] + "…"
    return clashes


def _did_you_mean(name: str, known: Iterable[str], otherwise: str) -> str:
    best = process.extractOne(name, list(known), scorer=fuzz.ratio, score_cutoff=60)
    return f"; did you mean `{best[0]}`?" if best else f"; {otherwise}"


def _one_typo_apart(a: str, b: str) -> bool:
    """One slip of the keyboard (a letter missing, extra, wrong or swapped); a different number is intended."""
    if min(len(a), len(b)) < 5 or OSA.distance(a, b) != 1:
        return False
    return re.sub(r"\d+", "#", a) != re.sub(r"\d+", "#", b)


def _plain(label: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", "", label.lower()).strip()


def _terms(label: str, synonyms: Sequence[str]) -> set[str]:
    return {_plain(t) for t in (label, *synonyms) if _plain(t)}


def _texts(flow: FlowShape) -> Iterator[tuple[Path, str, bool]]:
    """Every templated text and condition in the flow: (path, source, is_condition)."""
    for step_id, step in flow.steps.items():
        base: Path = ("steps", step_id)
        for i, message in enumerate(step.messages):
            yield ((*base, "say", i) if isinstance(step.say, list) else (*base, "say")), message, False
        for name in ("ask", "hint", "escalate"):
            value = getattr(step, name)
            if value:
                yield (*base, name), value, False
        for i, choice in enumerate(step.choices or ()):
            yield (*base, "choices", i, "label"), choice.label, False
        for arg, source in step.args.items():
            yield (*base, "args", arg), source, False
        for i, arm in enumerate(step.branch or ()):
            if arm.if_ is not None:
                yield (*base, "branch", i, "if"), arm.if_, True
    for name, value in flow.variables.items():
        if isinstance(value, str):
            yield ("variables", name), value, False


def _reads(source: str, condition: bool) -> Reads | None:
    """What a text or condition reads; None for syntax errors."""
    try:
        return condition_reads(source) if condition else text_reads(source)
    except TemplateProblem:
        return None  # validate.py reports it as an error


def _schema_line(text: str, file: str) -> list[LintWarning]:
    if any(SCHEMA_LINE.match(line) for line in text.splitlines()[:5]):
        return []
    return [
        LintWarning(
            Location(file, 1, 1),
            "the file does not start with `# yaml-language-server: $schema=flow.schema.json`; add it so "
            "editors complete keys and underline mistakes as you type (the path is relative to this file)",
            "schema-line",
        )
    ]


def _ignores(text: str) -> dict[int, set[str]]:
    """`# lint: ignore long-text` on a line silences that rule there; a bare `# lint: ignore` silences all."""
    found: dict[int, set[str]] = defaultdict(set)
    for number, line in enumerate(text.splitlines(), 1):
        match = IGNORE.search(line)
        if match:
            rules = {r for r in re.split(r"[\s,]+", match.group(1)) if r}
            found[number] |= rules or {"all"}
    return found


def _is_ignored(warning: LintWarning, ignored: dict[int, set[str]], step_lines: dict[str, int]) -> bool:
    lines = [warning.location.line]
    if warning.step is not None and warning.step in step_lines:
        lines.append(step_lines[warning.step])
    return any(warning.rule in ignored.get(n, ()) or "all" in ignored.get(n, ()) for n in lines)
