"""SPF macro expansion (RFC 7208 §7): %{s}, %{i}, %{d}… with digit, reverse and delimiter transformers."""

from __future__ import annotations

import ipaddress
import time
import urllib.parse
from dataclasses import dataclass

from bot.probes.spf_syntax import MACRO

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_NAME = 253


@dataclass(frozen=True)
class Sender:
    """What check_host() is asked about: the client address, the MAIL FROM (or postmaster@HELO) and HELO."""

    ip: IPAddress
    sender: str
    helo: str = "unknown"

    @property
    def local_part(self) -> str:
        local, _, _ = self.sender.rpartition("@")
        return local or "postmaster"

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]

    @property
    def full_sender(self) -> str:
        return f"{self.local_part}@{self.sender_domain}"


def ip_dotted(ip: IPAddress) -> str:
    """%{i}: dotted decimal for IPv4, dot-separated nibbles for IPv6."""
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


def expand(
    text: str, sender: Sender, domain: str, *, validated_name: str = "unknown", explanation: bool = False
) -> str:
    """`text` with every macro replaced; syntax was checked when the record was parsed."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "%":
            out.append(char)
            index += 1
            continue
        nxt = text[index + 1 : index + 2]
        if nxt in ("%", "_", "-"):
            out.append({"%": "%", "_": " ", "-": "%20"}[nxt])
            index += 2
            continue
        match = MACRO.match(text, index)
        if match is None:  # unreachable for parsed records; keep the text rather than guess
            out.append(char)
            index += 1
            continue
        letter = match["letter"]
        value = _value(letter.lower(), sender, domain, validated_name, explanation)
        value = _transform(value, match["digits"], bool(match["reverse"]), match["delims"] or ".")
        if letter.isupper():
            value = urllib.parse.quote(value, safe="-._~")
        out.append(value)
        index = match.end()
    return "".join(out)


def _value(letter: str, sender: Sender, domain: str, validated_name: str, explanation: bool) -> str:
    ip = sender.ip
    values = {
        "s": sender.full_sender,
        "l": sender.local_part,
        "o": sender.sender_domain,
        "d": domain,
        "i": ip_dotted(ip),
        "p": validated_name,
        "v": "in-addr" if isinstance(ip, ipaddress.IPv4Address) else "ip6",
        "h": sender.helo,
    }
    if explanation:
        values.update(c=str(ip), r="unknown", t=str(int(time.time())))
    return values.get(letter, "")


def _transform(value: str, digits: str, reverse: bool, delimiters: str) -> str:
    parts = [value]
    for delimiter in delimiters:
        parts = [piece for part in parts for piece in part.split(delimiter)]
    if reverse:
        parts.reverse()
    if digits:
        parts = parts[-int(digits) :]
    return ".".join(parts)


def fit_name(name: str) -> str:
    """An expanded domain cut from the left, label by label, to at most 253 characters (§7.3)."""
    name = name.rstrip(".")
    while len(name) > MAX_NAME and "." in name:
        name = name.split(".", 1)[1]
    return name


def queryable(name: str) -> bool:
    """Whether a name can be asked of DNS at all (labels of 1-63 characters, at most 253 in all)."""
    if not name or len(name) > MAX_NAME:
        return False
    return all(0 < len(label) <= 63 for label in name.split("."))
