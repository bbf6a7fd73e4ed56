"""Reads the facts out of what a customer types or pastes: addresses, domains, blocklists and error codes."""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

# Every pattern here is fixed and written without nested repetition, so Python's `re` runs in
# linear time on them; patterns written by support leads go through RE2 instead (signals.py).
MAX_NEAR = 50  # addresses and rejection words compared when picking the listed IP: keeps it linear
MAX_CHARS = 8_000  # a pasted bounce with headers is a few KB; the rest is quoted mail, not the error

_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)"
)
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", re.IGNORECASE)
_EMAIL = re.compile(
    r"[\w.+-]{1,64}@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}[a-z]{2,24})\b", re.IGNORECASE
)
_DOMAIN = re.compile(
    r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}[a-z]{2,24})(?![\w-]|\.\w)", re.IGNORECASE
)
# RFC 3463: class.subject.detail, e.g. 5.7.8; not inside an IP address or a version number.
_ENHANCED = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")
# An SMTP reply code (RFC 5321: 2-5, 0-5, 0-9) where it reads as one: before an enhanced code
# ("535 5.7.8", "550-5.7.1"), after words that introduce one ("error 554", "said: 550"), or
# opening a line of a paste ("535 Incorrect authentication data"). "I sent 550 emails" is not one.
_REPLY_BEFORE_ENHANCED = re.compile(r"(?<![\w.])([2-5][0-5]\d)[ -](?=[245]\.\d{1,3}\.\d{1,3}\b)")
_REPLY_AFTER_WORD = re.compile(
    r"\b(?:error|code|reply|replied|response|responded|said|says|status|smtp|returned|server|rejected)"
    r"[\s:#()=-]{1,4}([2-5][0-5]\d)(?!\d|\.\d| ?(?:emails?|e-mails?|messages?|mails?|mb|kb|gb|per|a day|recipients?)\b)",
    re.IGNORECASE,
)
_REPLY_AT_LINE = re.compile(r"(?m)^[\s>]*\(?([2-5][0-5]\d)[ -]\(?(?=[a-z#<\[])", re.IGNORECASE)
_REPLY_ALONE = re.compile(r"^\s*([2-5][0-5]\d)\s*$")
# Windows mail clients report HRESULTs: 0x800CCC0E, or typed without the 0x.
_CLIENT = re.compile(r"(?<![\w])(?:0x)?(8[0-9a-f]{7})(?![\w])", re.IGNORECASE)

# Blocklists customers quote, as bounces name them: zone or vendor word -> the name we say back.
_DNSBL_NAMES = (
    (re.compile(r"\b(?:zen|sbl|xbl|pbl|sbl-xbl|dbl)\.spamhaus\.org\b|\bspamhaus\b", re.I), "Spamhaus"),
    (re.compile(r"\bbl\.spamcop\.net\b|\bspamcop\b", re.I), "SpamCop"),
    (re.compile(r"\bb\.barracudacentral\.org\b|\bbarracuda\b", re.I), "Barracuda"),
    (re.compile(r"\bsorbs\b", re.I), "SORBS"),
    (re.compile(r"\bcbl\.abuseat\.org\b|\babuseat\b", re.I), "CBL"),
    (re.compile(r"\buceprotect\b", re.I), "UCEPROTECT"),
    (re.compile(r"\bpsbl\.surriel\.com\b|\bpsbl\b", re.I), "PSBL"),
    (re.compile(r"\bmailspike\b", re.I), "Mailspike"),
    (re.compile(r"\bspameatingmonkey\b", re.I), "SpamEatingMonkey"),
    (
        re.compile(r"\bS3150\b|\bS3140\b|\bS3114\b|\bS775\b|\bS844\b|\bRP-00\d\b", re.I),
        "Microsoft's blocklist",
    ),
    (re.compile(r"\bproofpoint\b", re.I), "Proofpoint"),
    (re.compile(r"\bcloudmark\b", re.I), "Cloudmark"),
)
# Any of the names above: most messages name no blocklist, and one scan says so instead of twelve.
_ANY_DNSBL = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in _DNSBL_NAMES), re.I)
# Names that are never the customer's own sending domain when they appear in a paste.
_NOT_CUSTOMER = re.compile(
    r"(?:^|\.)(?:spamhaus\.org|spamcop\.net|barracudacentral\.org|barracudanetworks\.com|sorbs\.net|"
    r"abuseat\.org|uceprotect\.net|surriel\.com|mailspike\.net|microsoft\.com|outlook\.com|hotmail\.com|"
    r"live\.com|office365\.com|protection\.outlook\.com|gmail\.com|google\.com|googlemail\.com|yahoo\.com|"
    r"aol\.com|icloud\.com|me\.com|apple\.com|mozilla\.org|example\.invalid|localhost)$",
    re.IGNORECASE,
)
# A home or office network's own addresses are never what a blocklist quotes. Documentation
# ranges (192.0.2.0/24, ...) are kept: tests and examples use them as public addresses.
_LOCAL_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
    )
)
_ULA = ipaddress.IPv6Network("fc00::/7")
_URL = re.compile(r"<?\b(?:https?|ftp)://[^\s>|]{1,2000}", re.IGNORECASE)
_HOST_PREFIX = re.compile(r"^(?:mail|smtp|smtpout|mx\d*|imap|pop3?|webmail|outgoing)\.", re.IGNORECASE)
_FILE_SUFFIX = re.compile(
    r"\.(?:exe|dll|php|js|html?|txt|pdf|docx?|xlsx?|jpe?g|png|gif|zip|pst|ost|eml|msg)$", re.I
)
_LISTING_WORD = re.compile(
    r"\b(?:client host|blocked|listed|black ?list(?:ed)?|block ?list(?:ed)?|banned|rbl|dnsbl|spamhaus|spamcop|"
    r"barracuda|sorbs|uceprotect|block list|reputation)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entities:
    """What one message names. Codes keep the order they appear in; addresses are deduplicated."""

    ips: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    dnsbls: tuple[str, ...] = ()
    reply_codes: tuple[str, ...] = ()
    enhanced_codes: tuple[str, ...] = ()
    client_codes: tuple[str, ...] = ()
    listed_ip: str | None = None  # the address a blocklist rejection quotes, if it quotes one

    @property
    def codes(self) -> tuple[str, ...]:
        return (*self.reply_codes, *self.enhanced_codes, *self.client_codes)

    @property
    def is_paste(self) -> bool:
        """True for a server's or program's error: it carries a code or names a blocklist."""
        return bool(self.codes or self.dnsbls)

    def to_json(self) -> dict[str, object]:
        return {
            key: value
            for key, value in (
                ("ips", list(self.ips)),
                ("domains", list(self.domains)),
                ("emails", list(self.emails)),
                ("dnsbls", list(self.dnsbls)),
                ("codes", list(self.codes)),
                ("listed_ip", self.listed_ip),
            )
            if value
        }


def extract(text: str) -> Entities:
    """Every entity in `text` (the first MAX_CHARS characters)."""
    text = text[:MAX_CHARS]
    ips = _unique(_ips(text))
    masked = _IPV4.sub(" ", text)  # an IP's digits must not read as enhanced codes (10.5.7.1)
    emails = _unique(m.group(0).lower() for m in _EMAIL.finditer(masked))
    enhanced = _unique(".".join(m.groups()) for m in _ENHANCED.finditer(masked))
    replies = _unique(_reply_codes(masked))
    client = _unique("0x" + m.group(1).upper() for m in _CLIENT.finditer(masked) if _is_hresult(m.group(1)))
    dnsbls = (
        _unique(name for pattern, name in _DNSBL_NAMES if pattern.search(text))
        if _ANY_DNSBL.search(text)
        else ()
    )
    # A link's host is somebody's web page, not where the customer sends mail from.
    without_emails = _URL.sub(" ", _EMAIL.sub(" ", masked))
    domains = _unique(_domains(masked, without_emails))
    return Entities(
        ips=ips,
        domains=domains,
        emails=emails,
        dnsbls=dnsbls,
        reply_codes=replies,
        enhanced_codes=enhanced,
        client_codes=client,
        listed_ip=_listed_ip(text, ips) if dnsbls or _mentions_listing(text) else None,
    )


def customer_domain(entities: Entities) -> str | None:
    """The customer's own mail domain, when the message names one in passing.

    A bounce quotes the recipient's servers, so in a paste with reply codes only an e-mail
    address counts; a mail program's error names the customer's own server (mail.example.com).
    """
    for address in entities.emails:
        host = address.rsplit("@", 1)[1]
        if not _NOT_CUSTOMER.search(host):
            return host
    if entities.reply_codes or entities.enhanced_codes or entities.dnsbls:
        return None
    for host in entities.domains:
        if _NOT_CUSTOMER.search(host) or _FILE_SUFFIX.search(host):
            continue
        return _HOST_PREFIX.sub("", host) if host.count(".") >= 2 else host
    return None


def _ips(text: str) -> list[str]:
    found: list[str] = []
    for m in _IPV4.finditer(text):
        address = ipaddress.IPv4Address(m.group(0))
        if not any(address in net for net in _LOCAL_V4):
            found.append(str(address))
    for m in _IPV6.finditer(text):
        try:
            v6 = ipaddress.IPv6Address(m.group(0))
        except ValueError:
            continue
        if not (v6.is_loopback or v6.is_link_local or v6.is_unspecified or v6 in _ULA):
            found.append(str(v6))
    return found


def _reply_codes(text: str) -> list[str]:
    if m := _REPLY_ALONE.match(text):
        return [m.group(1)]
    hits: list[tuple[int, str]] = []
    for pattern in (_REPLY_BEFORE_ENHANCED, _REPLY_AFTER_WORD, _REPLY_AT_LINE):
        hits.extend((m.start(1), m.group(1)) for m in pattern.finditer(text))
    return [code for _, code in sorted(hits)]


def _is_hresult(digits: str) -> bool:
    # A run of 8 hex digits that is all decimal digits is more likely a phone or order number.
    return any(c.isalpha() for c in digits) or digits.startswith("80")


def _domains(text: str, without_emails: str) -> list[str]:
    out: list[str] = []
    for m in _DOMAIN.finditer(without_emails):
        host = m.group(1).lower().rstrip(".")
        if host.replace(".", "").isdigit():
            continue
        out.append(host[4:] if host.startswith("www.") else host)
    return out


def _mentions_listing(text: str) -> bool:
    lowered = text.lower()
    return any(
        word in lowered for word in ("blocklist", "block list", "blacklist", "black list", "listed", "rbl")
    )


def _listed_ip(text: str, ips: tuple[str, ...]) -> str | None:
    """The quoted address nearest to the words of the rejection ("Client host [x] blocked using ...")."""
    if len(ips) <= 1:
        return ips[0] if ips else None
    words = [m.start() for m in itertools.islice(_LISTING_WORD.finditer(text), MAX_NEAR)]
    if not words:
        return None
    best: tuple[int, str] | None = None
    for m in itertools.islice(_IPV4.finditer(text), MAX_NEAR):
        if m.group(0) not in ips:
            continue
        distance = min(abs(m.start() - w) for w in words)
        if best is None or distance < best[0]:
            best = (distance, m.group(0))
    return best[1] if best else None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
