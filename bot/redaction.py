"""Removes secrets from customer text before it is stored, logged or forwarded: they become [redacted]."""

from __future__ import annotations

import base64
import binascii
import itertools
import logging
import re
import unicodedata

REDACTED = "[redacted]"

# Words that follow "password is" in an ordinary complaint ("my password is wrong"): not secrets.
_PLAIN_WORDS = frozenset(
    {
        "wrong",
        "incorrect",
        "invalid",
        "rejected",
        "right",
        "correct",
        "fine",
        "ok",
        "okay",
        "not",
        "the",
        "same",
        "too",
        "being",
        "still",
        "expired",
        "changed",
        "reset",
        "new",
        "old",
        "empty",
        "blank",
        "saved",
        "stored",
        "accepted",
        "refused",
        "failing",
        "failed",
        "working",
        "correctly",
        "definitely",
        "probably",
        "surely",
        "a",
        "an",
        "my",
        "it",
        "that",
        "this",
        "what",
        "when",
        "which",
        "broken",
        "missing",
        "gone",
        "here",
        "below",
        "above",
        "attached",
        "different",
        "now",
    }
)

_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]*(?:PRIVATE KEY|CERTIFICATE)-----[\s\S]*?(?:-----END [A-Z0-9 ]*-----|$)"
)
_PATTERNS = [
    re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{8,}"),  # Slack tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),  # JWTs
    re.compile(r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"),  # Stripe-style keys
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*"),
    re.compile(r"(?i)\bAUTH\s+(?:PLAIN|LOGIN)\s+[A-Za-z0-9+/]{4,}={0,2}"),  # SMTP AUTH with credentials
    re.compile(r"(?i)(?<=://)[^/\s:@]+:[^@\s/]+(?=@)"),  # user:password@ in a URL (smtp://, https://)
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),  # GitHub fine-grained tokens
    re.compile(r"\bgl(?:pat|dt|rt|ptt|oas|cbt|imt|agent|soat|ft)-[A-Za-z0-9_-]{16,}"),  # GitLab tokens
    re.compile(r"\bGR1348941[A-Za-z0-9_-]{16,}"),  # GitLab runner registration tokens
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]{16,}"),  # Stripe webhook signing secrets
    re.compile(r"\b(?:AC|SK)[0-9a-f]{32}\b"),  # Twilio account and API key SIDs
    # Slack incoming-webhook and workflow URLs: whoever has one can post into the channel.
    re.compile(r"(?i)(?<=hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9_/+-]+"),
    # Azure connection strings: AccountKey=…;, SharedAccessKey=…, SharedAccessSignature=sv=…&sig=…
    re.compile(r"(?i)(?:(?<=accountkey=)|(?<=sharedaccesskey=)|(?<=sharedaccesssignature=))[^;\s\"']+"),
    re.compile(r"(?i)(?<=[?&;]sig=)[A-Za-z0-9%+/=_-]+"),  # an Azure SAS signature in a URL
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}"),  # Google API keys
]
# `aws_secret_access_key = x`, `"private_key_id": "x"`, `TWILIO_AUTH_TOKEN=x`, `client_secret: x`: a
# name made of identifier characters with a secret word in it, then = or :, then the value. The name
# is read at most 40 characters either side of the word, so a long identifier costs a bounded scan.
_ASSIGNED = re.compile(
    r"(?i)(?<![\w.-])((?:[\w.-]{0,40}?)"
    r"(?:secret|passw|passwd|pwd|token|api_?key|access_?key|private_?key|account_?key|auth_?key|credential)"
    r"[\w.-]{0,40}[\"']?\s{0,3}[:=]\s{0,3})(\"[^\"\n]{1,1000}\"|'[^'\n]{1,1000}'|[^\s,;&\"'}]+)"
)
# An e-mail address and, right after it, something shaped like a password: "jo@example.com Hunter2!",
# "jo@example.com / s3cret", "jo@example.com:Tr0ub4dor" (how credentials get pasted, no keyword at all).
_EMAIL_THEN_VALUE = re.compile(
    r"(?i)(?<![\w.+-])([\w.+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}"
    r"(?:\s{1,5}(?:[/|,:;]\s{0,5})?|[/|:;]))(\S{4,128})"
)
_KEYWORD = (
    r"(pass(?:word|wd|phrase|code)?|pwd|pw|secret|api[_ -]?key|access[_ -]?key|token"
    r"|passwort|kennwort|wachtwoord|mot de passe|mdp|contrase[nñ]a|senha|l[oö]senord|salasana|has[lł]o)"
)
_VALUE = r"(\"[^\"]+\"|'[^']+'|\S+)"
# "password: x", "pw=x", "my password is x", "password - x", "password's x", "passwd x".
_PASSWORD = re.compile(
    r"(?i)\b"
    + _KEYWORD
    + r"((?:'s|\u2019s)\s+|\s*(?:(?:is|was|ist|war|est|es)\b\s*[:=]?|=|:|->|[-\u2013\u2014])\s*|\s+)"
    + _VALUE
)
# "the password I use is x", "password for jo@example.com: x": a few words between keyword and value.
_PASSWORD_LATER = re.compile(
    r"(?i)\b"
    + _KEYWORD
    + r"((?:\s+[\w@.'-]+){1,3}?(?:\s+(?:is|was|ist|war|est|es)\b\s*[:=]?\s*|\s*[:=]\s*))"
    + _VALUE
)
# Base64 of SMTP AUTH PLAIN ("\0user\0password") pasted from a log without the AUTH PLAIN prefix.
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{12,}={0,2}(?![A-Za-z0-9+/=])")
# A run of digit groups; the card inside may have other numbers next to it ("4111 1111 1111 1111 12 25").
# Separators people and programs put in card numbers: spaces (no-break and thin ones too), hyphens and
# dashes, dots, slashes, underscores.
_DIGIT_RUN = re.compile(r"\b\d+(?:[ \t\-.\u00a0\u2007\u2009\u202f\u2010-\u2015_/]{1,3}\d+)*\b")


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _password(match: re.Match[str]) -> str:
    keyword, glue, value = match.group(1), match.group(2), match.group(3)
    bare = value.strip("\"'.,!?;").lower()
    if not bare:
        return match.group(0)
    last = glue.split()[-1].lower() if glue.split() else ""
    if last.endswith((":", "=", "->")):
        pass  # "password: x" always introduces the secret, even a plain word
    elif last in ("is", "was", "ist", "war", "est", "es", "'s", "\u2019s", "-", "\u2013", "\u2014"):
        if bare in _PLAIN_WORDS and value.isalpha():  # "my password is wrong"
            return match.group(0)
    elif bare.isalpha():
        # Without "is", ":" or "=" ("password for my mailbox") a plain word is just the sentence going on.
        return match.group(0)
    return f"{keyword}{glue}{REDACTED}"


def _auth_plain(match: re.Match[str]) -> str:
    token = match.group(0)
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return token
    # AUTH PLAIN is [authzid]\0user\0password; ordinary words and ids don't decode to that shape.
    fields = raw.split(b"\0")
    if len(fields) == 3 and fields[1] and fields[2] and all(32 <= b < 127 for b in fields[1] + fields[2]):
        return REDACTED
    return token


# Each pattern above is tried only when a word it needs is in the text: nearly every message and log
# line has none of them, and a dozen full scans cost ~70 us per line. Literals of case-sensitive
# patterns are looked for as written; those of (?i) patterns in the folded text, where the two
# letters Python's re also matches case-blind to ASCII without lower() saying so (dotless i, long s)
# are folded too.
_FOLD = str.maketrans({"\u0131": "i", "\u017f": "s"})
_GATED = [
    (("xox",), False, _PATTERNS[0]),
    (("xapp-",), False, _PATTERNS[1]),
    (("AKIA", "ASIA"), False, _PATTERNS[2]),
    (("eyJ",), False, _PATTERNS[3]),
    (("_live_", "_test_"), False, _PATTERNS[4]),
    (("sk-",), False, _PATTERNS[5]),
    (("gh",), False, _PATTERNS[6]),
    (("bearer",), True, _PATTERNS[7]),
    (("auth",), True, _PATTERNS[8]),
    (("://",), False, _PATTERNS[9]),
    (("github_pat_",), False, _PATTERNS[10]),
    (("gl",), False, _PATTERNS[11]),
    (("GR1348941",), False, _PATTERNS[12]),
    (("whsec_",), False, _PATTERNS[13]),
    (("AC", "SK"), False, _PATTERNS[14]),
    (("hooks.slack.com",), True, _PATTERNS[15]),
    (("accountkey", "sharedaccess"), True, _PATTERNS[16]),
    (("sig=",), True, _PATTERNS[17]),
    (("AIza",), False, _PATTERNS[18]),
]
assert len(_GATED) == len(_PATTERNS)
# Whether any gate opens at all, in one scan each of the text and its folded form: most texts ("no",
# "example.com") open none, and asking each gate in turn cost as much as the rest of redaction.
_ANY_NEEDLE = re.compile("|".join(re.escape(n) for needles, fold, _ in _GATED if not fold for n in needles))
_ANY_FOLDED_NEEDLE = re.compile(
    "|".join(re.escape(n) for needles, fold, _ in _GATED if fold for n in needles)
)
# Every keyword of _KEYWORD contains one of these.
_KEYWORD_STEMS = (
    "pass", "pw", "secret", "apikey", "api_key", "api key", "api-key", "accesskey", "access_key",
    "access key", "access-key", "token", "kennwort", "wachtwoord", "mdp", "contrase", "senha", "senord",
    "salasana", "hasl", "has\u0142",
)  # fmt: skip
# Every secret word of _ASSIGNED contains one of these.
_ASSIGNED_STEMS = ("secret", "pass", "pwd", "token", "key", "credential")
_ANY_KEYWORD_STEM = re.compile("|".join(re.escape(stem) for stem in _KEYWORD_STEMS))
_ANY_ASSIGNED_STEM = re.compile("|".join(re.escape(stem) for stem in _ASSIGNED_STEMS))
# Characters that change nothing a reader sees (zero-width spaces and joiners, soft hyphens, bidi
# marks): dropped before the second look, so "pass\u200bword: x" is read as the keyword it shows.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def redact(text: str) -> str:
    """`text` with anything that looks like a password, token, key or card number replaced."""
    return _redact_forms(text, gated=True)


def redact_ungated(text: str) -> str:
    """redact() trying every pattern on every text: the reference the gates are tested against."""
    return _redact_forms(text, gated=False)


def _redact_forms(text: str, *, gated: bool) -> str:
    """Redact the text as written and, when it differs, its NFKC form without invisible characters.

    "PASSWORD\uff1ax" (a full-width colon), full-width digits and letters, no-break spaces and
    zero-width characters hide a secret from patterns written in ASCII; their NFKC form does not.
    When that form reveals more, it is what is kept (the customer's text normalised, secrets out).
    """
    out = _redact(text, gated=gated)
    if not text or text.isascii():
        return out
    plain = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    if plain == text:
        return out
    deep = _redact(plain, gated=gated)
    return deep if _hidden(plain, deep) > _hidden(text, out) else out


def _hidden(before: str, after: str) -> int:
    return after.count(REDACTED) - before.count(REDACTED)


def _redact(text: str, *, gated: bool) -> str:
    if not text:
        return text
    folded = text.lower()
    if "\u0131" in folded or "\u017f" in folded:
        folded = folded.translate(_FOLD)
    out = _PEM.sub(REDACTED, text) if not gated or "-----BEGIN" in text else text
    if not gated or _ANY_NEEDLE.search(text) or _ANY_FOLDED_NEEDLE.search(folded):
        for needles, fold, pattern in _GATED:
            haystack = folded if fold else text
            if not gated or any(needle in haystack for needle in needles):
                out = pattern.sub(REDACTED, out)
    if not gated or _ANY_KEYWORD_STEM.search(folded):
        out = _PASSWORD.sub(_password, out)
        out = _PASSWORD_LATER.sub(_password, out)
    if not gated or (("=" in out or ":" in out) and _ANY_ASSIGNED_STEM.search(folded)):
        out = _ASSIGNED.sub(_assigned, out)
    if not gated or "@" in out:
        out = _EMAIL_THEN_VALUE.sub(_after_email, out)
    if gated and len(out) < 12:
        return out  # shorter than any base64 credential (12) or card number (13 digits)
    out = _BASE64.sub(_auth_plain, out)
    return _DIGIT_RUN.sub(_cards, out)


def _assigned(match: re.Match[str]) -> str:
    if match.group(2) == REDACTED:
        return match.group(0)
    return match.group(1) + REDACTED


# What may follow an address without being a secret: a host (with port or path), a link, an error
# code, another address.
_NOT_SECRET_AFTER_EMAIL = re.compile(
    r"(?i)(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d{1,5})?(?:/\S*)?|0x[0-9a-f]+|\S*(?:@|://)\S*|\[redacted\]"
)


def _after_email(match: re.Match[str]) -> str:
    """Keep the address; hide the word after it when it is shaped like a password."""
    value = match.group(2)
    core = value.strip("()[]{}<>\"'.,!?;:")
    if (
        len(core) < 6
        or not any(c.isalpha() for c in core)
        or not any(not c.isalpha() for c in core)
        or _NOT_SECRET_AFTER_EMAIL.fullmatch(core)
    ):
        return match.group(0)
    return match.group(1) + REDACTED


def _cards(match: re.Match[str]) -> str:
    """Hide every whole-group span of 13-19 digits that passes the Luhn check, longest first."""
    run = match.group(0)
    if len(run) < 13:
        return run  # too short to hold a card's 13 digits (most runs: times, ports, counts)
    groups = [(g.start(), g.end(), g.group(0)) for g in re.finditer(r"\d+", run)]
    ends = list(itertools.accumulate((len(g[2]) for g in groups), initial=0))
    out, done, i = [], 0, 0
    while i < len(groups):
        # Cards are written in at most a handful of groups (4-4-4-4, 4-6-5); looking at no more than
        # 8 keeps this linear and cheap in the run's length, whatever a sender pastes.
        for j in range(min(len(groups), i + 8) - 1, i - 1, -1):
            if not 13 <= ends[j + 1] - ends[i] <= 19:
                continue
            digits = "".join(g[2] for g in groups[i : j + 1])
            if _luhn(digits):
                out.append(run[done : groups[i][0]] + REDACTED)
                done, i = groups[j][1], j + 1
                break
        else:
            i += 1
    return "".join(out) + run[done:]


def was_redacted(original: str, cleaned: str) -> bool:
    return original != cleaned and REDACTED in cleaned


def _clean(text: str) -> str:
    return redact(text).replace("\r", "\\r").replace("\n", "\\n")


class RedactingFilter(logging.Filter):
    """A logging filter: secrets out, and CR/LF escaped so customer text can't forge log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            # uvicorn's access formatter unpacks the arguments (peer address, method, target with
            # query string, HTTP version, status), so they stay a tuple. Method and target are what
            # the client sent; the address and version are the server's own.
            address, method, target, version, status = args
            record.args = (address, _clean(str(method)), _clean(str(target)), version, status)
            return True
        # Each text argument alone first: "%r" would turn a no-break or zero-width space inside a
        # secret into an escape sequence that hides it from the second look.
        if isinstance(args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        # Then the whole message at once, so a secret split between the format string and an
        # argument ("password: %s") is still seen whole.
        record.msg = _clean(record.getMessage())
        record.args = None
        return True


def install_log_redaction() -> None:
    """Attach the filter to the root's and uvicorn's handlers (call after logging is configured)."""
    # uvicorn's loggers have their own handlers and don't propagate to the root.
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    for handler in (h for name in names for h in logging.getLogger(name).handlers):
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
