"""DMARC record syntax (RFC 7489 §6.3, §6.4): tags parsed and checked, each mistake named with its fix."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from functools import cache

from publicsuffixlist import PublicSuffixList

from bot.probes.untrusted import clip

POLICIES = ("none", "quarantine", "reject")
_TAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_VERSION = re.compile(r"^v[ \t]*=[ \t]*DMARC1[ \t]*(;|$)")
_MAILTO = re.compile(
    r"^mailto:(?P<address>[^@\s!,;]+@(?P<domain>[A-Za-z0-9.\-]+))(?:!(?P<size>\d+[kmgtKMGT]?))?$"
)
KNOWN_TAGS = {"v", "p", "sp", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri"}


@dataclass(frozen=True)
class DmarcMistake:
    """What is wrong in a record: the tag (or "record"), the problem, and how to write it instead."""

    tag: str
    problem: str
    fix: str


@dataclass
class DmarcRecord:
    """A parsed record: tag values (first occurrence), report addresses, and every mistake found."""

    text: str
    tags: dict[str, str] = field(default_factory=dict)
    rua: list[tuple[str, str]] = field(default_factory=list)  # (address, domain)
    ruf: list[tuple[str, str]] = field(default_factory=list)
    mistakes: list[DmarcMistake] = field(default_factory=list)
    unknown_tags: list[str] = field(default_factory=list)

    @property
    def pct(self) -> int:
        value = self.tags.get("pct", "100")
        return int(value) if value.isdigit() else 100


@cache
def _psl() -> PublicSuffixList:
    # The list bundled with the pinned publicsuffixlist release: never fetched at run time.
    return PublicSuffixList()


async def load_public_suffixes() -> None:
    """Read the bundled list in a worker thread (it takes a few hundred ms once per process)."""
    await asyncio.to_thread(_psl)


def organisational_domain(domain: str) -> str:
    """The registrable domain of `domain` per the Public Suffix List (RFC 7489 §3.2)."""
    name = domain.rstrip(".").lower()
    return _psl().privatesuffix(name) or name


def looks_like_dmarc(text: str) -> bool:
    """A TXT record meant as DMARC, even a mistyped one (leading space or invisible character, case)."""
    return text.strip(" \t\ufeff\u200b").replace(" ", "").lower().startswith("v=dmarc1")


def parse(text: str) -> DmarcRecord:
    record = DmarcRecord(text)
    mistakes = record.mistakes
    if not text.isascii() or any(ord(c) < 0x20 and c != "\t" for c in text):
        bad = next(c for c in text if not c.isascii() or (ord(c) < 0x20 and c != "\t"))
        mistakes.append(
            DmarcMistake(
                "record",
                f"contains the character U+{ord(bad):04X} (invisible or not plain text)",
                "retype the record by hand in your DNS settings",
            )
        )
    if not _VERSION.match(text):
        where = "starts with a space" if text[:1].isspace() else "doesn't start with v=DMARC1"
        mistakes.append(
            DmarcMistake(
                "v", f"the record {where}, so receivers ignore it", "begin it exactly with v=DMARC1;"
            )
        )
    for part in text.split(";"):
        part = part.strip(" \t")
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip(" \t"), value.strip(" \t")
        if not sep or not _TAG_NAME.match(name):
            mistakes.append(
                DmarcMistake(
                    clip(part, 40),
                    "is not a tag=value pair",
                    "separate tags with ';' and write each as name=value",
                )
            )
            continue
        key = name.lower()
        if key in record.tags:
            mistakes.append(DmarcMistake(key, f"{key}= appears twice", f"keep a single {key}= tag"))
            continue
        record.tags[key] = value
        if key not in KNOWN_TAGS:
            record.unknown_tags.append(clip(key, 20))
    _check_values(record)
    return record


def _check_values(record: DmarcRecord) -> None:
    tags, mistakes = record.tags, record.mistakes
    if "p" not in tags:
        mistakes.append(
            DmarcMistake(
                "p", "there is no policy (p=)", "add p=none, p=quarantine or p=reject right after v=DMARC1;"
            )
        )
    for key in ("p", "sp"):
        if key in tags and tags[key].lower() not in POLICIES:
            mistakes.append(
                DmarcMistake(
                    key,
                    f"{key}={clip(tags[key], 20)} is not a policy",
                    f"use {key}=none, {key}=quarantine or {key}=reject",
                )
            )
    pct = tags.get("pct")
    if pct is not None and (not pct.isdigit() or int(pct) > 100):
        mistakes.append(
            DmarcMistake(
                "pct", f"pct={clip(pct, 10)} is not a percentage", "use a whole number from 0 to 100"
            )
        )
    for key in ("adkim", "aspf"):
        if key in tags and tags[key].lower() not in ("r", "s"):
            mistakes.append(
                DmarcMistake(
                    key,
                    f"{key}={clip(tags[key], 10)} is not r or s",
                    f"use {key}=r (relaxed) or {key}=s (strict)",
                )
            )
    if "fo" in tags and not re.fullmatch(r"[01ds](:[01ds])*", tags["fo"].lower()):
        mistakes.append(
            DmarcMistake(
                "fo", f"fo={clip(tags['fo'], 10)} is not valid", "use fo=0, 1, d or s (joined with ':')"
            )
        )
    if "ri" in tags and not tags["ri"].isdigit():
        mistakes.append(
            DmarcMistake(
                "ri", f"ri={clip(tags['ri'], 10)} is not a number of seconds", "use ri=86400, or remove it"
            )
        )
    if "rf" in tags and tags["rf"].lower() != "afrf":
        mistakes.append(
            DmarcMistake(
                "rf", f"rf={clip(tags['rf'], 10)} is not a report format", "use rf=afrf, or remove it"
            )
        )
    for key, target in (("rua", record.rua), ("ruf", record.ruf)):
        if key not in tags:
            continue
        for uri in tags[key].split(","):
            uri = uri.strip(" \t")
            match = _MAILTO.match(uri)
            if match is None:
                fix = (
                    f"write it as {key}=mailto:{uri}"
                    if "@" in uri and ":" not in uri
                    else "write each address as mailto:name@example.com"
                )
                mistakes.append(DmarcMistake(key, f"{clip(uri, 60)} is not a mailto: address", fix))
                continue
            target.append((match["address"], match["domain"].lower().rstrip(".")))
