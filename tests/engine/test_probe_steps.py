"""Probe steps: arguments from slots, the result saved and shown, and a branch per outcome."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from bot.engine.model import Incoming
from bot.engine.probing import FixtureProbes, OfflineProbes, ProbeResult, ProgressCallback
from bot.errors import ProbeError
from tests.support.engine import MakeEngine

WriteFlow = Callable[[str, str], Path]

PROBE_FLOW = """
    id: ports
    title: Ports
    version: 1
    start: ask_domain
    steps:
      ask_domain:
        ask: Your domain?
        slot: domain
        validate: domain
        next: check
      check:
        say: Checking mail.{{ domain }}…
        probe: smtp_587
        args: {domain: "{{ domain }}"}
        save_as: port587
        outcomes:
          pass: said_pass
          warn: said_warn
          fail: said_fail
          unknown: said_unknown
      said_pass:
        say: "open: {{ port587.summary }}"
        end: resolved
      said_warn:
        say: "slow: {{ port587.details.ms }} ms"
        end: resolved
      said_fail:
        escalate: "Port 587 is closed for {{ domain }}: {{ port587.summary }}"
      said_unknown:
        say: "could not tell ({{ port587.status }})"
        end: unresolved
"""


class RaisingProbes(OfflineProbes):
    """A probe port whose check cannot run at all (e.g. the target is an internal address)."""

    async def run(
        self,
        check: str,
        args: Mapping[str, str],
        *,
        conversation: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> ProbeResult:
        raise ProbeError(f"{args['domain']} resolves to a private address; I won't probe it")


@pytest.fixture
def ports(write_flow: WriteFlow) -> None:
    write_flow("ports", PROBE_FLOW)


@pytest.mark.parametrize(
    ("status", "details", "step", "said", "conv_status"),
    [
        ("pass", {}, "said_pass", "open: Port 587 answered.", "resolved"),
        ("warn", {"ms": 2400}, "said_warn", "slow: 2400 ms", "resolved"),
        ("fail", {}, "said_fail", None, "escalated"),
        ("unknown", {}, "said_unknown", "could not tell (unknown)", "unresolved"),
    ],
)
async def test_each_outcome_takes_its_branch(
    ports: None,
    make_engine: MakeEngine,
    status: str,
    details: dict[str, int],
    step: str,
    said: str | None,
    conv_status: str,
) -> None:
    result = ProbeResult(id="smtp_587", status=status, summary="Port 587 answered.", details=details)  # type: ignore[arg-type]
    probes = FixtureProbes({"smtp_587": result})
    engine = make_engine(probes)
    conv, _ = await engine.start("p", "ports")
    turn = await engine.handle(conv, Incoming(text="jo@Example.COM"))
    assert probes.calls == [("smtp_587", {"domain": "example.com"})]
    assert conv.step == step and turn.status == conv_status
    assert conv.slots["port587"] == {
        "id": "smtp_587",
        "status": status,
        "summary": "Port 587 answered.",
        "details": details,
    }
    kinds = [m.type for m in turn.messages]
    assert kinds[:2] == ["text", "probe"]
    assert turn.messages[0].text == "Checking mail.example.com…"
    probe_message = turn.messages[1]
    assert probe_message.text == "Port 587 answered."
    assert probe_message.probe is not None
    assert (probe_message.probe.id, probe_message.probe.status) == ("smtp_587", status)
    if said is not None:
        assert said in [m.text for m in turn.messages]
    else:
        assert turn.escalated is not None
        assert turn.escalated["reason"] == "Port 587 is closed for example.com: Port 587 answered."


async def test_skipped_goes_to_unknown(ports: None, make_engine: MakeEngine) -> None:
    probes = FixtureProbes({"smtp_587": ProbeResult("smtp_587", "skipped", "Not needed.")})
    engine = make_engine(probes)
    conv, _ = await engine.start("p", "ports")
    await engine.handle(conv, Incoming(text="example.com"))
    assert conv.step == "said_unknown"


async def test_offline_probes_take_the_unknown_branch(ports: None, make_engine: MakeEngine) -> None:
    engine = make_engine(OfflineProbes())
    conv, _ = await engine.start("p", "ports")
    turn = await engine.handle(conv, Incoming(text="example.com"))
    assert conv.step == "said_unknown" and turn.status == "unresolved"
    assert "could not tell (unknown)" in [m.text for m in turn.messages]


async def test_probe_error_becomes_unknown_with_its_message(ports: None, make_engine: MakeEngine) -> None:
    engine = make_engine(RaisingProbes())
    conv, _ = await engine.start("p", "ports")
    turn = await engine.handle(conv, Incoming(text="intranet.example"))
    assert conv.step == "said_unknown"
    assert conv.slots["port587"]["status"] == "unknown"
    probe = turn.messages[1]
    assert probe.type == "probe"
    assert probe.text == "intranet.example resolves to a private address; I won't probe it"


async def test_progress_callback_gets_each_result(ports: None, make_engine: MakeEngine) -> None:
    seen: list[ProbeResult] = []

    async def progress(result: ProbeResult) -> None:
        seen.append(result)

    result = ProbeResult("smtp_587", "pass", "ok")
    engine = make_engine(FixtureProbes({"smtp_587": result}))
    conv, _ = await engine.start("p", "ports")
    await engine.handle(conv, Incoming(text="example.com"), progress=progress)
    assert seen == [result]


async def test_default_outcome_catches_the_rest(write_flow: WriteFlow, make_engine: MakeEngine) -> None:
    write_flow(
        "ports",
        PROBE_FLOW.replace(
            "          warn: said_warn\n          fail: said_fail\n          unknown: said_unknown\n",
            "          default: said_unknown\n",
        )
        .replace(
            '      said_warn:\n        say: "slow: {{ port587.details.ms }} ms"\n        end: resolved\n', ""
        )
        .replace(
            '      said_fail:\n        escalate: "Port 587 is closed for {{ domain }}: {{ port587.summary }}"\n',
            "",
        ),
    )
    engine = make_engine(FixtureProbes({"smtp_587": ProbeResult("smtp_587", "fail", "closed")}))
    conv, _ = await engine.start("p", "ports")
    await engine.handle(conv, Incoming(text="example.com"))
    assert conv.step == "said_unknown"


async def test_probe_message_in_turn_json(ports: None, make_engine: MakeEngine) -> None:
    result = ProbeResult("smtp_587", "warn", "Slow.", {"ms": 900})
    engine = make_engine(FixtureProbes({"smtp_587": result}))
    conv, _ = await engine.start("p", "ports")
    data = (await engine.handle(conv, Incoming(text="example.com"))).to_json()
    assert data["messages"][1] == {
        "role": "bot",
        "type": "probe",
        "text": "Slow.",
        "probe": {"id": "smtp_587", "status": "warn", "summary": "Slow.", "details": {"ms": 900}},
    }
