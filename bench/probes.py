"""Probe concurrency: the full diagnosis of a healthy domain when every DNS answer and SMTP greeting takes 300 ms.

    python bench/probes.py [--delay 0.3] [--runs 3]

Everything runs on loopback (tests/fakes): an authoritative DNS server and aiosmtpd servers on
25/465/587 with a test CA. Two measurements of the same diagnosis:
  concurrent - the real thing: independent lookups at once, three dependent rounds (MX -> MX
               addresses -> SMTP), under one deadline (target: under 1.5 s);
  sequential - the same lookups and conversations one after another (target: over 4 s).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.probes import LiveProbes
from bot.settings import Settings
from tests.fakes.dns_server import FakeDNS
from tests.fakes.smtp_servers import SMTPServer, TestPKI
from tests.probes.conftest import DOMAIN, DOMAIN_LIST, IP_LIST, healthy_zones


async def measure(settings: Settings, serial: bool) -> tuple[float, dict[str, str]]:
    probes = LiveProbes(settings, serial=serial)
    started = time.perf_counter()
    report = await probes.diagnose(DOMAIN)
    return time.perf_counter() - started, {c.id: c.status for c in report.checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--delay", type=float, default=0.3, help="seconds added to every DNS answer and greeting"
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPKI(Path(tmp))
        os.environ["SSL_CERT_FILE"] = str(pki.ca_file)
        names = (f"mail.{DOMAIN}", f"mx.{DOMAIN}")
        with (
            FakeDNS(healthy_zones(), delay=args.delay) as dns,
            SMTPServer(tls=pki.context("good", names), auth=False, greeting_delay=args.delay) as s25,
            SMTPServer(tls=pki.context("good", names), implicit_tls=True, greeting_delay=args.delay) as s465,
            SMTPServer(tls=pki.context("good", names), greeting_delay=args.delay) as s587,
        ):
            settings = Settings(
                nameservers=(dns.address,),
                probe_allow=(ipaddress.ip_network("127.0.0.1/32"),),
                smtp_ports={25: s25.port, 465: s465.port, 587: s587.port},
                dnsbl_zones=(IP_LIST,),
                domain_blocklists=(DOMAIN_LIST,),
            )
            concurrent, sequential = [], []
            for _ in range(args.runs):
                took, statuses = asyncio.run(measure(settings, serial=False))
                concurrent.append(took)
                assert set(statuses.values()) == {"pass"}, statuses
                took, statuses = asyncio.run(measure(settings, serial=True))
                sequential.append(took)
                assert set(statuses.values()) == {"pass"}, statuses
            queries = len(dns.queries) // (2 * args.runs)
    best_c, best_s = min(concurrent), min(sequential)
    print(
        f"delay per DNS answer and SMTP greeting: {args.delay * 1000:.0f} ms; {queries} DNS queries per diagnosis"
    )
    print(f"concurrent diagnosis: {best_c:.2f} s (best of {args.runs}; target < 1.5 s)")
    print(f"sequential diagnosis: {best_s:.2f} s (best of {args.runs}; target > 4 s)")
    print(f"ratio sequential/concurrent: {best_s / best_c:.1f}x")


if __name__ == "__main__":
    main()
