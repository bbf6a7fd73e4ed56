"""Non-public targets: refused or reported, and no packet ever reaches a listener on that address."""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes import connect_log
from tests.fakes.smtp_servers import ScriptedSMTP
from tests.support.probes import DOMAIN, World


def _world_with_mx(
    make_world: Callable[..., World], recorder: ScriptedSMTP, records: dict[str, list[str]]
) -> World:
    # mx.<domain> resolves to `records`; port 25 is mapped to the recorder's port.
    return make_world(zones={f"mx.{DOMAIN}": records}, servers={25: recorder})


async def test_mx_on_a_loopback_address_outside_the_allow_list(
    make_world: Callable[..., World], scripted_smtp: Callable[..., ScriptedSMTP]
) -> None:
    recorder = scripted_smtp(host="127.0.0.9")  # a real listener where the MX points
    world = _world_with_mx(make_world, recorder, {"A": ["127.0.0.9"]})
    assert world.allow == "127.0.0.1/32"  # covers the other fixtures, not 127.0.0.9
    report = await world.probes().diagnose(DOMAIN)
    assert recorder.connections == []
    mx = report.check("mx")
    assert mx.status == "fail" and "public address" in mx.summary
    assert "127.0.0.9" in mx.details["hosts"][0]["not_connected"]
    assert report.check("smtp_25").status == "skipped"
    # Control: the same world with the address allowed does reach the listener, so the test can see it.
    world.allow = "127.0.0.1/32,127.0.0.9/32"
    await world.probes().run("smtp_25", {"domain": DOMAIN})
    assert len(recorder.connections) == 1


async def test_mx_on_an_ipv4_mapped_address(
    make_world: Callable[..., World], scripted_smtp: Callable[..., ScriptedSMTP]
) -> None:
    recorder = scripted_smtp(host="127.0.0.1")  # ::ffff:127.0.0.1 would land here
    world = _world_with_mx(make_world, recorder, {"AAAA": ["::ffff:127.0.0.1"]})
    report = await world.probes().diagnose(DOMAIN)
    assert recorder.connections == []  # allow 127.0.0.1/32 does not exempt the mapped form
    assert list(report.check("mx").details["hosts"][0]["not_connected"]) == ["::ffff:7f00:1"]
    world.allow = "127.0.0.1/32,::ffff:127.0.0.1/128"  # control: explicitly allowed, it connects
    await world.probes().run("smtp_25", {"domain": DOMAIN})
    assert len(recorder.connections) == 1


async def test_private_and_metadata_addresses_are_never_connected(make_world: Callable[..., World]) -> None:
    world = make_world(
        zones={
            DOMAIN: {"MX": [f"10 mx.{DOMAIN}.", f"20 meta.{DOMAIN}."]},
            f"mx.{DOMAIN}": {"A": ["10.0.0.25"]},
            f"meta.{DOMAIN}": {"A": ["169.254.169.254"], "AAAA": ["fd00::25"]},
            f"mail.{DOMAIN}": {"A": ["192.168.1.10"]},
            "mail.ok.example": {"A": ["127.0.0.1"]},
        }
    )
    forbidden = {"10.0.0.25", "169.254.169.254", "fd00::25", "192.168.1.10"}
    with connect_log() as connects:  # every socket.connect() in this process, via an audit hook
        report = await world.probes().diagnose(DOMAIN)
        refused = list(connects)
        # Control: an allowed target in the same run is seen by the hook.
        await world.probes().run("smtp_587", {"domain": "ok.example"})
    assert ("127.0.0.1", world.ports[587]) in connects
    assert not [c for c in refused if c[0] in forbidden]
    assert report.check("mx").status == "fail"
    assert report.check("mail_host").status == "fail"
    assert {report.check(c).status for c in ("smtp_25", "smtp_465", "smtp_587", "tls")} == {"skipped"}
