"""A loopback world for the probe tests: a healthy domain on fake DNS and SMTP servers, easy to break."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from bot.probes import LiveProbes, Timeouts
from bot.settings import Settings
from tests.fakes.dns_server import FakeDNS, dnsbl_zone, domain_list_zone
from tests.fakes.smtp_servers import TestPKI

DOMAIN = "acme.example"
IP_LIST = "bl.lists.example"
DOMAIN_LIST = "dbl.lists.example"
FAST = Timeouts(dns=1.0, connect=1.0, smtp=2.0, deadline=6.0)
DKIM_KEY = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFC"


def healthy_zones(domain: str = DOMAIN) -> dict[str, dict[str, Any]]:
    return {
        domain: {
            "MX": [f"10 mx.{domain}."],
            "TXT": ["v=spf1 include:spf.provider.example ~all"],
            "A": ["127.0.0.1"],
        },
        f"mx.{domain}": {"A": ["127.0.0.1"]},
        f"mail.{domain}": {"A": ["127.0.0.1"]},
        "spf.provider.example": {"TXT": ["v=spf1 ip4:127.0.0.0/8 -all"]},
        f"_dmarc.{domain}": {"TXT": [f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}"]},
        f"default._domainkey.{domain}": {"TXT": [f"v=DKIM1; k=rsa; p={DKIM_KEY}"]},
        **dnsbl_zone(IP_LIST, {"4.3.2.1": "127.0.0.2"}),
        **domain_list_zone(DOMAIN_LIST, {"spammy.example": "127.0.1.2"}),
    }


@dataclass
class World:
    """DNS, SMTP servers on 25/465/587 and the settings pointing the probes at them."""

    dns: FakeDNS
    pki: TestPKI
    servers: dict[int, Any]
    allow: str = "127.0.0.1/32"
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def ports(self) -> dict[int, int]:
        return {port: server.port for port, server in self.servers.items()}

    def settings(self) -> Settings:
        return Settings(
            nameservers=(self.dns.address,),
            probe_allow=tuple(ipaddress.ip_network(a) for a in self.allow.split(",")),
            smtp_ports=self.ports,
            dnsbl_zones=(IP_LIST,),
            domain_blocklists=(DOMAIN_LIST,),
        )

    def env(self) -> dict[str, str]:
        return {
            "SUPPORTBOT_NAMESERVERS": self.dns.nameserver,
            "SUPPORTBOT_PROBE_ALLOW": self.allow,
            "SUPPORTBOT_SMTP_PORTS": ",".join(f"{k}={v}" for k, v in self.ports.items()),
            "SUPPORTBOT_DNSBL_ZONES": IP_LIST,
            "SUPPORTBOT_DOMAIN_BLOCKLISTS": DOMAIN_LIST,
            "SSL_CERT_FILE": str(self.pki.ca_file),
            **self.extra_env,
        }

    def probes(self, **options: Any) -> LiveProbes:
        options.setdefault("timeouts", FAST)
        return LiveProbes(self.settings(), **options)
