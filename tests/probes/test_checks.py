"""Every check's status against loopback DNS and SMTP servers (a healthy domain, then the ways each check finds trouble)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.probes import LiveProbes
from bot.probes.report import Report
from tests.fakes.smtp_servers import ScriptedSMTP, closed_port
from tests.support.probes import DOMAIN, World

Statuses = dict[str, str]


async def diagnose(world: World, domain: str = DOMAIN, ip: str | None = None, **options: Any) -> Report:
    return await world.probes(**options).diagnose(domain, ip)


def statuses(report: Report) -> Statuses:
    return {c.id: c.status for c in report.checks}


async def test_healthy_domain_passes_everything(world: World) -> None:
    report = await diagnose(world)
    assert statuses(report) == {
        "mx": "pass",
        "mail_host": "pass",
        "smtp_25": "pass",
        "smtp_465": "pass",
        "smtp_587": "pass",
        "tls": "pass",
        "spf": "pass",
        "dmarc": "pass",
        "dkim": "pass",
        "ip_blocklist": "pass",
        "domain_blocklist": "pass",
    }
    smtp = report.check("smtp_587").details
    assert (
        smtp["starttls"] is True and smtp["auth"] == ["LOGIN", "PLAIN"] and smtp["size"] == 50 * 1024 * 1024
    )
    assert "AUTH" not in " ".join(smtp["ehlo"])  # AUTH only shows up after STARTTLS
    for result in report.checks:  # one plain sentence each
        assert result.summary.endswith(".") and result.summary.count(". ") == 0, result.summary
    # The probes never tried to log in or send.
    assert all(not s.handler.commands for s in world.servers.values())


async def test_null_mx(make_world: Callable[..., World]) -> None:
    report = await diagnose(make_world(zones={DOMAIN: {"MX": ["0 ."], "A": ["127.0.0.1"]}}))
    assert report.check("mx").status == "fail"
    assert "null MX" in report.check("mx").summary
    assert report.check("smtp_25").status == "skipped"


async def test_no_mx_but_an_address_is_a_warning(make_world: Callable[..., World]) -> None:
    report = await diagnose(make_world(zones={DOMAIN: {"A": ["127.0.0.1"], "TXT": ["v=spf1 -all"]}}))
    assert report.check("mx").status == "warn"
    assert report.check("smtp_25").status == "pass"  # implicit MX: the domain's own address


async def test_cname_at_apex_does_not_answer_silently(make_world: Callable[..., World]) -> None:
    world = make_world(zones={"alias.example": {"CNAME": DOMAIN}})
    report = await diagnose(world, "alias.example")
    mx = report.check("mx")
    assert mx.status == "warn"
    assert mx.details["apex_alias"] == DOMAIN and "alias (CNAME)" in mx.summary


async def test_mx_host_problems(make_world: Callable[..., World]) -> None:
    zones = {
        DOMAIN: {"MX": [f"10 mx.{DOMAIN}.", "20 192.0.2.1.", f"30 alias.{DOMAIN}.", f"40 gone.{DOMAIN}."]},
        f"alias.{DOMAIN}": {"CNAME": f"mx.{DOMAIN}"},
    }
    report = await diagnose(make_world(zones=zones))
    mx = report.check("mx")
    assert mx.status == "warn"
    problems = " ".join(p for h in mx.details["hosts"] for p in h.get("problems", []))
    assert "is an IP address" in problems and "alias (CNAME)" in problems and "has no address" in problems


async def test_mail_host_missing(make_world: Callable[..., World]) -> None:
    world = make_world()
    del world.dns.zones[f"mail.{DOMAIN}"]
    report = await diagnose(world)
    assert report.check("mail_host").status == "fail"
    assert "smtp.stackmail.com" in report.check("mail_host").summary
    assert {report.check(c).status for c in ("smtp_465", "smtp_587", "tls")} == {"skipped"}


async def test_dmarc_and_dkim_findings(make_world: Callable[..., World]) -> None:
    world = make_world(
        zones={
            "_dmarc.none.example": {"TXT": ["v=DMARC1; p=none"]},
            "_dmarc.two.example": {"TXT": ["v=DMARC1; p=reject", "v=DMARC1; p=none"]},
            "_dmarc.bad.example": {"TXT": ["v=DMARC1; rua=mailto:x@bad.example"]},
            "_dmarc.org.example": {"TXT": ["v=DMARC1; p=reject"]},
            "default._domainkey.revoked.example": {"TXT": ["v=DKIM1; p="]},
            "s1._domainkey.custom.example": {"TXT": [f"v=DKIM1; p={'A' * 40}"]},
        }
    )
    probes = world.probes()

    async def status(check: str, **args: str) -> tuple[str, str]:
        result = await probes.run(check, args)
        return result.status, result.summary

    assert (await status("dmarc", domain="none.example"))[0] == "warn"
    assert (await status("dmarc", domain="two.example"))[0] == "fail"
    assert (await status("dmarc", domain="bad.example"))[0] == "fail"
    assert (await status("dmarc", domain="nothing.example"))[0] == "warn"
    inherited = await probes.run("dmarc", {"domain": "shop.org.example"})
    assert inherited.status == "pass" and inherited.details["inherited_from"] == "org.example"
    missing = await status("dkim", domain="nothing.example")
    assert missing[0] == "unknown" and "may use another name" in missing[1]
    assert (await status("dkim", domain="revoked.example"))[0] == "fail"
    assert (await status("dkim", domain="custom.example", selector="s1"))[0] == "pass"


async def test_expired_certificate(make_world: Callable[..., World]) -> None:
    report = await diagnose(make_world(cert="expired"))
    assert report.check("tls").status == "fail"
    assert "expired" in report.check("tls").summary
    assert report.check("smtp_587").status == "warn"


async def test_wrong_name_certificate_names_the_right_host(make_world: Callable[..., World]) -> None:
    report = await diagnose(make_world(cert="wrong_name"))
    tls = report.check("tls")
    assert tls.status == "fail"
    assert (
        "mail.other-provider.net" in tls.summary and tls.details["use_instead"] == "mail.other-provider.net"
    )


async def test_port_advice_follows_the_certificate(
    make_world: Callable[..., World], smtp_server: Callable[..., Any], pki: Any
) -> None:
    wrong = await diagnose(make_world(cert="wrong_name"))
    for check in ("smtp_465", "smtp_587"):
        result = wrong.check(check)
        assert result.status == "warn" and result.details["use_instead"] == "mail.other-provider.net"
        assert "use it as your outgoing server" not in result.summary
        assert "set your outgoing server to mail.other-provider.net" in result.summary
    # Shared hosting: the certificate is the provider's, so the advice is the provider's host.
    shared = pki.context("good", ("smtp.stackmail.com", "*.stackmail.com"))
    servers = {
        465: smtp_server(tls=shared, implicit_tls=True, auth=True),
        587: smtp_server(tls=shared, auth=True),
    }
    report = await diagnose(make_world(servers=servers))
    for check in ("smtp_465", "smtp_587", "tls"):
        result = report.check(check)
        assert result.details["use_instead"] == "smtp.stackmail.com", result
        assert "smtp.stackmail.com" in result.summary
    assert report.check("tls").status == "fail"


async def test_self_signed_certificate(make_world: Callable[..., World]) -> None:
    report = await diagnose(make_world(cert="self_signed"))
    assert report.check("tls").status == "fail"
    assert "self-signed" in report.check("tls").summary


async def test_certificate_expiring_soon_is_a_warning(make_world: Callable[..., World]) -> None:
    report = await diagnose(make_world(cert="expiring"))
    assert report.check("tls").status == "warn"


async def test_size_under_50_mb_and_no_auth(make_world: Callable[..., World]) -> None:
    small = await diagnose(make_world(size=20 * 1024 * 1024))
    assert small.check("smtp_587").status == "warn"
    assert "20 MB" in small.check("smtp_587").summary
    no_auth = await diagnose(make_world(submission_auth=False))
    assert no_auth.check("smtp_587").status == "warn"
    assert "login" in no_auth.check("smtp_587").summary


async def test_refused_and_554_ports(
    make_world: Callable[..., World], scripted_smtp: Callable[..., ScriptedSMTP]
) -> None:
    rude = scripted_smtp(greeting=["554 mail.example.com no service for you"])

    class Closed:
        port = closed_port()

    report = await diagnose(make_world(servers={587: rude, 465: Closed()}))
    assert (
        report.check("smtp_587").status == "fail"
        and "turned the connection away" in report.check("smtp_587").summary
    )
    assert report.check("smtp_587").details["greeting"] == ["554 mail.example.com no service for you"]
    assert rude.commands == ["QUIT"]
    assert report.check("smtp_465").status == "fail" and "Nothing answers" in report.check("smtp_465").summary


async def test_listed_ip_names_the_list_and_delisting(make_world: Callable[..., World]) -> None:
    world = make_world()
    report = await diagnose(world, ip="1.2.3.4")
    assert report.check("ip_blocklist").status == "fail"
    # A well-known list gets its name and removal page (served here by the fake DNS only).
    world.dns.update(
        {"2.0.0.127.zen.spamhaus.org": {"A": ["127.0.0.2"]}, "4.3.2.1.zen.spamhaus.org": {"A": ["127.0.0.4"]}}
    )
    settings = world.settings()
    probes = LiveProbes(settings.__class__(**{**settings.__dict__, "dnsbl_zones": ("zen.spamhaus.org",)}))
    result = await probes.run("ip_blocklist", {"ip": "1.2.3.4"})
    assert result.status == "fail"
    assert "Spamhaus ZEN" in result.summary and "https://check.spamhaus.org/" in result.summary
    assert "infected" in result.summary


async def test_ipv6_blocklist_query_uses_nibbles(make_world: Callable[..., World]) -> None:
    world = make_world()
    await world.probes().run("ip_blocklist", {"ip": "2a00:1450::1"})
    nibbles = ".".join(reversed("2a00145000000000" + "0000000000000001"))  # 32 nibbles, reversed
    assert (f"{nibbles}.bl.lists.example", "A", "udp") in world.dns.queries


async def test_blocklist_odd_answers_are_unknown_never_listed(make_world: Callable[..., World]) -> None:
    world = make_world()
    for answer in ("127.255.255.254", "127.0.0.1", "93.184.216.34"):
        world.dns.zones["4.3.2.1.bl.lists.example"] = {"A": [answer]}
        result = await world.probes().run("ip_blocklist", {"ip": "1.2.3.4"})  # fresh: no cached answers
        assert result.status == "unknown", answer
        assert result.details["lists"][0]["verdict"] == "unknown"
    world.dns.zones["4.3.2.1.bl.lists.example"] = {"A": ["127.0.0.2"]}
    world.dns.fault("4.3.2.1.bl.lists.example", "servfail")
    assert (await world.probes().run("ip_blocklist", {"ip": "1.2.3.4"})).status == "unknown"


async def test_a_list_failing_its_self_test_is_not_trusted(make_world: Callable[..., World]) -> None:
    world = make_world()
    del world.dns.zones["2.0.0.127.bl.lists.example"]  # RFC 5782 test entry missing: list is down or hijacked
    result = await world.probes().run("ip_blocklist", {"ip": "1.2.3.4"})
    assert result.status == "unknown"
    assert "not trusted" in result.details["lists"][0]["reason"]


async def test_listed_domain(make_world: Callable[..., World]) -> None:
    world = make_world(zones={"spammy.example": {"MX": ["10 mx.acme.example."]}})
    result = await world.probes().run("domain_blocklist", {"domain": "spammy.example"})
    assert result.status == "fail" and "dbl.lists.example" in result.summary


async def test_servfail_and_dropped_queries_are_unknown(make_world: Callable[..., World]) -> None:
    world = make_world(faults={(DOMAIN, "MX"): "servfail", (DOMAIN, "TXT"): "drop"})
    report = await diagnose(world)
    assert report.check("mx").status == "unknown"
    assert report.check("smtp_25").status == "unknown"
    assert report.check("spf").status == "unknown"
    assert report.check("mail_host").status == "pass"  # the rest of the diagnosis still ran


async def test_idn_domain(make_world: Callable[..., World]) -> None:
    from tests.support.probes import healthy_zones

    idn = "xn--bcher-kva.example"
    zones = {k: v for k, v in healthy_zones(idn).items() if idn in k}
    report = await diagnose(make_world(zones=zones), "Bücher.example")
    assert (report.domain, report.ascii) == ("bücher.example", idn)
    assert report.check("mx").status == "pass" and report.check("mail_host").status == "pass"
