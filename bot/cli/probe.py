"""`supportbot probe DOMAIN [--ip IP] [--json]`: run the full diagnosis now and print the report."""

from __future__ import annotations

import asyncio
import json

import click

from bot.errors import ProbeError
from bot.settings import Settings


@click.command()
@click.argument("domain")
@click.option(
    "--ip",
    default=None,
    metavar="IP",
    help="The address mail is sent from: checked against the blocklists and the SPF record.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report.")
def probe(domain: str, ip: str | None, as_json: bool) -> None:
    """Check DOMAIN's mail setup: MX, mail host, SMTP ports, TLS, SPF, DMARC, DKIM, blocklists.

    Exits 0 whatever the findings; non-zero only when the check could not run (e.g. `localhost`).
    """
    from bot.probes import diagnose

    settings = Settings.from_env()
    try:
        report = asyncio.run(diagnose(domain, ip, settings))
    except ProbeError as exc:
        raise click.UsageError(f"cannot probe {domain!r}: {exc}") from None
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.render_text())
