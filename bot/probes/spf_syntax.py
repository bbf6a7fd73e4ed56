"""SPF record syntax (RFC 7208 §4.6, §5, §6, §7.1): terms parsed, every mistake named with its fix."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from bot.probes.untrusted import clip

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
# Mechanisms and modifiers that cost a DNS lookup (the 10-term limit of §4.6.4).
LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})
_VERSION = re.compile(r"^v=spf1( |$)", re.IGNORECASE)
_MODIFIER = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9\-_.]*)=(?P<value>.*)$", re.DOTALL)
_DIRECTIVE = re.compile(r"^(?P<q>[+\-~?]?)(?P<name>[A-Za-z][A-Za-z0-9]*)(?P<rest>.*)$", re.DOTALL)
MACRO = re.compile(r"%\{(?P<letter>[A-Za-z])(?P<digits>[0-9]*)(?P<reverse>[rR]?)(?P<delims>[.\-+,/_=]*)\}")
_TOPLABEL = re.compile(r"^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9\-]*[A-Za-z0-9])$")
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
_IP4 = re.compile(rf"^{_QNUM}(?:\.{_QNUM}){{3}}$")
_CIDR4 = r"/(?P<v4>0|[1-9][0-9]?)"
_CIDR6 = r"/(?P<v6>0|[1-9][0-9]{0,2})"
_TRAILING_CIDR = re.compile(r"(?:/{1,2}[0-9]*)+$")
_DUAL_CIDR = re.compile(rf"^(?:{_CIDR4})?(?:/{_CIDR6})?$")
MACRO_LETTERS = frozenset("slodiphv")
EXPLANATION_LETTERS = MACRO_LETTERS | frozenset("crt")


class SpfSyntaxError(ValueError):
    """One mistake in a record: the offending `term`, what is wrong, and how to write it instead."""

    def __init__(self, term: str, problem: str, fix: str) -> None:
        self.term = visible(term)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.term!r}: {problem}; {fix}")


@dataclass(frozen=True)
class Mechanism:
    """One directive: qualifier, name, optional domain-spec (still with macros) and prefix lengths."""

    text: str
    qualifier: str
    name: str
    domain: str | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    cidr4: int = 32
    cidr6: int = 128

    @property
    def costs_lookup(self) -> bool:
        return self.name in LOOKUP_TERMS


@dataclass(frozen=True)
class Record:
    """A parsed v=spf1 record: mechanisms in order, and the two modifiers that mean something."""

    text: str
    mechanisms: tuple[Mechanism, ...]
    redirect: str | None = None
    explanation: str | None = None
    redirect_term: str = ""


def visible(term: str) -> str:
    """A term as it can be shown: control characters written as escapes (\\t, \\x00), cut short."""
    shown = "".join(
        c.encode("unicode_escape").decode() if ord(c) < 0x20 or ord(c) == 0x7F else c for c in term
    )
    return clip(shown, 80)


def is_spf(text: str) -> bool:
    """Whether a TXT string is an SPF record: "v=spf1" followed by a space or nothing (§4.5)."""
    return _VERSION.match(text) is not None


_INVISIBLE = " \t\r\n\ufeff\u200b\u200c\u200d\u2060\u00a0"


def near_miss(text: str) -> SpfSyntaxError | None:
    """Why a TXT record meant as SPF is not one to receivers: a leading or invisible character, or a
    separator other than a plain space right after v=spf1. None when it isn't such a near miss."""
    if is_spf(text):
        return None
    body = text.lstrip(_INVISIBLE)
    if body[:6].lower() != "v=spf1":
        return None
    if body != text:
        bad = text[0]
        return SpfSyntaxError(
            text[: len(text) - len(body) + 6],
            f"starts with {_describe(bad)} before v=spf1, so receivers don't see an SPF record",
            "delete everything before v=spf1",
        )
    after = body[6:7]
    if after and after in _INVISIBLE:
        return SpfSyntaxError(
            body[:7],
            f"has {_describe(after)} after v=spf1 instead of a plain space",
            "put a single plain space after v=spf1",
        )
    return None


def _describe(char: str) -> str:
    if char == " ":
        return "a space"
    if char == "\t":
        return "a tab"
    return f"the invisible character U+{ord(char):04X}"


def parse_record(text: str) -> Record:
    """Parse a whole record (syntax errors anywhere count, §4.6); raise SpfSyntaxError naming the term."""
    if not text.isascii():
        bad = next(c for c in text if not c.isascii())
        term = next((t for t in text.split(" ") if bad in t), text)
        raise SpfSyntaxError(term, f"contains the non-ASCII character U+{ord(bad):04X}", _retype(bad))
    mechanisms: list[Mechanism] = []
    redirect = explanation = None
    redirect_term = ""
    for term in text.split(" ")[1:]:
        if not term:
            continue  # several spaces in a row are allowed
        _check_characters(term)
        modifier = _MODIFIER.match(term)
        if modifier is not None:
            name, value = modifier["name"].lower(), modifier["value"]
            if name in ("redirect", "exp"):
                if (redirect if name == "redirect" else explanation) is not None:
                    raise SpfSyntaxError(term, f"{name}= appears twice", f"keep a single {name}= term")
                check_domain_spec(value, term, explanation=False)
                if name == "redirect":
                    redirect, redirect_term = value, term
                else:
                    explanation = value
            else:
                check_macro_string(value, term, explanation=False)
            continue
        mechanisms.append(_mechanism(term))
    return Record(text, tuple(mechanisms), redirect, explanation, redirect_term)


def _check_characters(term: str) -> None:
    for char in term:
        if ord(char) < 0x21 or ord(char) == 0x7F:
            raise SpfSyntaxError(
                term,
                f"contains the control character {char.encode('unicode_escape').decode()!s}",
                "terms are separated by plain spaces only: retype the record without tabs or line breaks",
            )


def _retype(char: str) -> str:
    if char in "\ufeff\u200b\u200c\u200d\u2060":
        return "remove the invisible character (often pasted from a word processor) by retyping the record"
    if char.isspace():
        return "separate terms with plain spaces only (this looks like a no-break or other special space)"
    return "SPF records may only contain plain ASCII: retype the record by hand"


def _mechanism(term: str) -> Mechanism:
    match = _DIRECTIVE.match(term)
    if match is None:
        raise SpfSyntaxError(
            term, "is not a valid SPF term", "each term is like ip4:192.0.2.1, include:x.com or -all"
        )
    qualifier, raw_name, rest = match["q"], match["name"], match["rest"]
    name = raw_name.lower()
    if name not in MECHANISMS:
        if rest.startswith(":") and name in ("redirect", "exp"):
            raise SpfSyntaxError(
                term, f"{raw_name} is a modifier, written with '='", f"write {raw_name}={rest[1:]}"
            )
        hint = {"ipv4": "ip4", "ipv6": "ip6", "inc": "include", "includes": "include", "exist": "exists"}.get(
            name
        )
        fix = (
            f"write {hint} instead of {raw_name}"
            if hint
            else "use one of all, include, a, mx, ptr, ip4, ip6, exists"
        )
        raise SpfSyntaxError(term, f"'{clip(raw_name, 30)}' is not an SPF mechanism", fix)
    if name == "all":
        if rest:
            raise SpfSyntaxError(term, "'all' takes no value", f"write {qualifier}all on its own")
        return Mechanism(term, qualifier or "+", name)
    if name in ("ip4", "ip6"):
        return _ip_mechanism(term, qualifier or "+", name, rest)
    if name in ("include", "exists"):
        if not rest.startswith(":") or len(rest) == 1:
            raise SpfSyntaxError(term, f"{name} needs a domain", f"write it like {name}:spf.example.com")
        check_domain_spec(rest[1:], term, explanation=False)
        return Mechanism(term, qualifier or "+", name, rest[1:])
    # a, mx, ptr: an optional ":domain", then (a and mx) optional prefix lengths
    domain: str | None = None
    cidr = rest
    if rest.startswith(":"):
        # A domain-spec may itself hold "/" and ":", so the prefix lengths are only a trailing "/digits".
        tail = _TRAILING_CIDR.search(rest[1:])
        cut = tail.start() if tail else len(rest) - 1
        domain, cidr = rest[1 : 1 + cut], rest[1 + cut :]
        if not domain:
            raise SpfSyntaxError(
                term, f"'{name}:' is followed by no domain", f"write {name}:mail.example.com, or just {name}"
            )
        check_domain_spec(domain, term, explanation=False)
    elif rest and not rest.startswith("/"):
        raise SpfSyntaxError(
            term, f"'{clip(term, 30)}' is not an SPF mechanism", f"write {name}:domain or {name}/24"
        )
    if name == "ptr":
        if cidr:
            raise SpfSyntaxError(
                term,
                "ptr takes no prefix length",
                "remove the /… part (and better, replace ptr with ip4:/ip6:)",
            )
        return Mechanism(term, qualifier or "+", name, domain)
    lengths = _DUAL_CIDR.match(cidr)
    if (
        lengths is None
        or (lengths["v4"] and int(lengths["v4"]) > 32)
        or (lengths["v6"] and int(lengths["v6"]) > 128)
    ):
        raise SpfSyntaxError(
            term,
            f"has a bad prefix length ({clip(cidr, 20)})",
            f"use /0 to /32 for IPv4 and //0 to //128 for IPv6 without leading zeros, e.g. {name}/24//64",
        )
    return Mechanism(
        term,
        qualifier or "+",
        name,
        domain,
        cidr4=int(lengths["v4"]) if lengths["v4"] else 32,
        cidr6=int(lengths["v6"]) if lengths["v6"] else 128,
    )


def _ip_mechanism(term: str, qualifier: str, name: str, rest: str) -> Mechanism:
    example = "ip4:192.0.2.0/24" if name == "ip4" else "ip6:2001:db8::/32"
    if not rest.startswith(":") or len(rest) == 1:
        raise SpfSyntaxError(term, f"{name} needs an address", f"write it like {example}")
    address, slash, length = rest[1:].partition("/")
    limit = 32 if name == "ip4" else 128
    if slash and (not re.fullmatch(r"0|[1-9][0-9]{0,2}", length) or int(length) > limit):
        raise SpfSyntaxError(
            term,
            f"has a bad prefix length (/{clip(length, 10)})",
            f"use /0 to /{limit} without leading zeros, like {example}",
        )
    try:
        if name == "ip4":
            if not _IP4.match(address):
                raise ValueError(address)
            ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(address)
        else:
            ip = ipaddress.IPv6Address(address)
    except ValueError:
        raise SpfSyntaxError(
            term, f"'{clip(address, 45)}' is not a valid {name} address", f"write it like {example}"
        ) from None
    network = ipaddress.ip_network(f"{ip}/{int(length) if slash else limit}", strict=False)
    return Mechanism(term, qualifier, name, network=network)


def check_macro_string(text: str, term: str, *, explanation: bool) -> None:
    """Raise SpfSyntaxError unless `text` is a valid macro-string (§7.1)."""
    allowed = EXPLANATION_LETTERS if explanation else MACRO_LETTERS
    index = 0
    while index < len(text):
        char = text[index]
        if char != "%":
            if not explanation and not (0x21 <= ord(char) <= 0x7E):
                raise SpfSyntaxError(
                    term,
                    "contains a character a domain can't hold",
                    "retype it with letters, digits, dots and hyphens",
                )
            index += 1
            continue
        nxt = text[index + 1 : index + 2]
        if nxt in ("%", "_", "-"):
            index += 2
            continue
        match = MACRO.match(text, index)
        if match is None:
            raise SpfSyntaxError(
                term,
                "has a broken macro ('%' must start %{x}, %%, %_ or %-)",
                "write a literal percent sign as %%",
            )
        letter = match["letter"].lower()
        if letter not in allowed:
            where = "only in an exp= explanation" if letter in "crt" else "not at all"
            raise SpfSyntaxError(
                term,
                f"uses the macro %{{{match['letter']}}}, allowed {where}",
                "use one of %{s} %{l} %{o} %{d} %{i} %{p} %{h} %{v}",
            )
        if match["digits"] and int(match["digits"]) == 0:
            raise SpfSyntaxError(
                term, "keeps zero parts of a macro (%{x0})", "use a number of 1 or more, or none"
            )
        index = match.end()


def check_domain_spec(text: str, term: str, *, explanation: bool) -> None:
    """Raise SpfSyntaxError unless `text` is a domain-spec: a macro-string ending in a macro or a top label."""
    if not text:
        raise SpfSyntaxError(term, "has no domain after it", "give a domain like _spf.example.com")
    check_macro_string(text, term, explanation=explanation)
    ends = list(MACRO.finditer(text))
    tail = text[ends[-1].end() :] if ends else text
    if ends and not tail:
        return
    if re.search(r":[0-9]+\.?$", tail):
        raise SpfSyntaxError(
            term, "has a port after its domain", "SPF domains take no port: remove the ':' and the number"
        )
    name = tail[:-1] if tail.endswith(".") else tail
    if "." not in name:
        raise SpfSyntaxError(
            term,
            f"'{clip(text, 60)}' is not a full domain name",
            "use a full domain with a dot, like spf.example.com",
        )
    labels = name.split(".")
    top = labels[-1]
    if not _TOPLABEL.match(top):
        problem = (
            "ends in a number"
            if top.isdigit()
            else f"ends in '{clip(top, 20)}', which can't be a top-level domain"
        )
        raise SpfSyntaxError(
            term, f"the domain {problem}", "use a host name (not an IP address) like mail.example.com"
        )
    literal_labels = labels[1:] if ends else labels
    if any(len(label) > 63 for label in literal_labels):
        raise SpfSyntaxError(
            term, "has a domain label longer than 63 characters", "check the domain for a typo"
        )
    if any(not label for label in literal_labels) or (not ends and len(name) > 253):
        raise SpfSyntaxError(
            term, "has an empty part ('..') or is too long as a domain", "check the domain for doubled dots"
        )
