"""The `dkim` check: the provider's selector under `_domainkey`; a missing selector is unknown, not "no DKIM"."""

from __future__ import annotations

import re
from typing import Any

from bot.engine.probing import ProbeResult
from bot.probes.dmarc import parse_tags
from bot.probes.run import Run
from bot.probes.untrusted import clip

SELECTOR = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9](?:[a-z0-9_-]{0,62}))*$", re.IGNORECASE)


async def check_dkim(run: Run) -> ProbeResult:
    d = run.d.unicode
    selector = run.selector
    lookup = await run.lookup(f"{selector}._domainkey.{run.d.ascii}", "TXT")
    details: dict[str, Any] = {"selector": selector, "lookup": lookup.evidence()}
    if lookup.failed:
        return ProbeResult(
            "dkim",
            "unknown",
            f"I couldn't read the DKIM key of {d} just now, so please try again in a few minutes.",
            details,
        )
    records = [r for r in lookup.records if "p=" in r.replace(" ", "")]
    if not records:
        return ProbeResult(
            "dkim",
            "unknown",
            f'I found no DKIM key for {d} under the name "{selector}", but it may use another name, so ask your support agent to confirm DKIM signing is on.',
            details,
        )
    tags = parse_tags(records[0])
    key = tags.get("p", "").replace(" ", "")
    details["tags"] = {k: clip(v, 80) for k, v in list(tags.items())[:10]}
    if "v" in tags and tags["v"] != "DKIM1":
        return ProbeResult(
            "dkim",
            "fail",
            f"The DKIM key of {d} has a wrong version tag (it must be v=DKIM1), so correct it in your DNS settings.",
            details,
        )
    if not key:
        return ProbeResult(
            "dkim",
            "fail",
            f"The DKIM key of {d} has been revoked (it is empty), so your mail isn't signed: publish the key your provider gives you.",
            details,
        )
    if not re.fullmatch(r"[A-Za-z0-9+/=]+", key):
        return ProbeResult(
            "dkim",
            "fail",
            f"The DKIM key of {d} is damaged (it isn't valid base64), so copy it again from your provider.",
            details,
        )
    return ProbeResult(
        "dkim",
        "pass",
        f"{d} publishes a DKIM key, so receivers can check your mail's signature; nothing to change there.",
        details,
    )
