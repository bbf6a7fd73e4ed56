"""One typed settings object, read from the environment once; a bad variable fails with one clear line."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.hours import OfficeHours, parse

DEFAULT_DNSBL_ZONES = (
    "zen.spamhaus.org",
    "bl.spamcop.net",
    "b.barracudacentral.org",
    "dnsbl.sorbs.net",
    "psbl.surriel.com",
)
DEFAULT_DOMAIN_BLOCKLISTS = ("dbl.spamhaus.org", "multi.surbl.org")


@dataclass(frozen=True)
class Settings:
    """Every setting the environment can give (`from_env`), parsed and checked."""

    database_url: str = "sqlite:///supportbot.db"
    port: int = 8000
    flows_dir: Path = Path("flows")
    nameservers: tuple[tuple[str, int], ...] = ()
    probe_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    smtp_ports: Mapping[int, int] = field(default_factory=dict)
    dnsbl_zones: tuple[str, ...] = DEFAULT_DNSBL_ZONES
    domain_blocklists: tuple[str, ...] = DEFAULT_DOMAIN_BLOCKLISTS
    widget_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    escalation_webhook_url: str | None = None
    webhook_secret: str | None = None
    escalation_email: str | None = None
    smtp_url: str | None = None
    public_url: str | None = None  # the bot's address seen from the internet: links in e-mails
    mail_from: str | None = None  # From: of e-mails to customers
    reply_address: str | None = None  # customers' e-mailed replies: support+<conversation>.<tag>@…
    inbound_secret: str | None = None  # signs the inbound e-mail webhook and the reply addresses
    office_hours: OfficeHours | None = None  # when people answer hand-overs; None: no hours promised
    agent_api_key: str | None = None
    admin_token: str | None = None
    idle_minutes: float = 30.0  # a conversation with no reply for this long is closed as abandoned
    access_log: bool = False  # uvicorn's line per request; the platform's router usually logs them
    # How long a client may take, and how many connections it may hold (bot/channels/web/connections.py).
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keepalive_timeout: float = 5.0
    max_connections: int = 1000
    max_connections_per_address: int = 64
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_escalation_channel: str | None = None
    slack_api_url: str | None = None
    zendesk_subdomain: str | None = None  # a bare subdomain, a host name, or a full http(s) URL
    zendesk_email: str | None = None
    zendesk_api_token: str | None = None
    freshdesk_domain: str | None = None  # "acme", "acme.freshdesk.com", or a full http(s) URL
    freshdesk_api_key: str | None = None
    chatwoot_url: str | None = None
    chatwoot_bot_token: str | None = None
    chatwoot_account_id: int | None = None
    chatwoot_secret: str | None = None
    redis_url: str | None = None  # rate limits shared by every process through Redis; else per process
    # Escalation floods: within the window a conversation's repeated requests for a person join its
    # last escalation, and one address (an IPv6 /64) starts at most this many new ones; the rest wait
    # in the queue without a new alert to the sinks.
    escalation_window_minutes: float = 60.0
    escalations_per_address: int = 3

    def escalation_sinks(self) -> tuple[str, ...]:
        """The names of the sinks these settings deliver hand-overs to, in bootstrap.build_sinks' order
        (webhook, email, zendesk, freshdesk, then the channels' by name: chatwoot, slack)."""
        configured = {
            "webhook": bool(self.escalation_webhook_url),
            "email": bool(self.escalation_email and self.smtp_url),
            "zendesk": bool(self.zendesk_subdomain),
            "freshdesk": bool(self.freshdesk_domain),
            "chatwoot": bool(self.chatwoot_url),
            "slack": bool(self.slack_bot_token and self.slack_escalation_channel),
        }
        return tuple(name for name, on in configured.items() if on)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment (or the mapping given); raise ConfigError naming the bad variable."""
        e = os.environ if env is None else env

        def opt(name: str) -> str | None:
            value = e.get(name, "").strip()
            return value or None

        return cls(
            database_url=_database_url(opt("DATABASE_URL") or "sqlite:///supportbot.db"),
            port=_port("PORT", opt("PORT") or "8000"),
            flows_dir=Path(opt("SUPPORTBOT_FLOWS") or "flows"),
            nameservers=_nameservers(opt("SUPPORTBOT_NAMESERVERS")),
            probe_allow=_networks("SUPPORTBOT_PROBE_ALLOW", opt("SUPPORTBOT_PROBE_ALLOW")),
            smtp_ports=_port_map(opt("SUPPORTBOT_SMTP_PORTS")),
            dnsbl_zones=_zones(opt("SUPPORTBOT_DNSBL_ZONES"), DEFAULT_DNSBL_ZONES),
            domain_blocklists=_zones(opt("SUPPORTBOT_DOMAIN_BLOCKLISTS"), DEFAULT_DOMAIN_BLOCKLISTS),
            widget_origins=_origins(opt("SUPPORTBOT_WIDGET_ORIGINS")),
            trusted_proxies=_networks("SUPPORTBOT_TRUSTED_PROXIES", opt("SUPPORTBOT_TRUSTED_PROXIES")),
            escalation_webhook_url=_url(
                "SUPPORTBOT_ESCALATION_WEBHOOK_URL", opt("SUPPORTBOT_ESCALATION_WEBHOOK_URL")
            ),
            webhook_secret=opt("SUPPORTBOT_WEBHOOK_SECRET"),
            escalation_email=opt("SUPPORTBOT_ESCALATION_EMAIL"),
            smtp_url=opt("SMTP_URL"),
            public_url=_url("SUPPORTBOT_PUBLIC_URL", opt("SUPPORTBOT_PUBLIC_URL")),
            mail_from=_address("SUPPORTBOT_MAIL_FROM", opt("SUPPORTBOT_MAIL_FROM")),
            reply_address=_address("SUPPORTBOT_REPLY_ADDRESS", opt("SUPPORTBOT_REPLY_ADDRESS")),
            inbound_secret=opt("SUPPORTBOT_INBOUND_SECRET"),
            office_hours=_office_hours(
                opt("SUPPORTBOT_OFFICE_HOURS"), opt("SUPPORTBOT_TIMEZONE"), opt("SUPPORTBOT_REPLY_TIME")
            ),
            agent_api_key=opt("SUPPORTBOT_AGENT_API_KEY"),
            admin_token=opt("SUPPORTBOT_ADMIN_TOKEN"),
            idle_minutes=_minutes("SUPPORTBOT_IDLE_MINUTES", opt("SUPPORTBOT_IDLE_MINUTES") or "30"),
            access_log=_switch("SUPPORTBOT_ACCESS_LOG", opt("SUPPORTBOT_ACCESS_LOG")),
            header_timeout=_seconds("SUPPORTBOT_HEADER_TIMEOUT", opt("SUPPORTBOT_HEADER_TIMEOUT") or "10"),
            body_timeout=_seconds("SUPPORTBOT_BODY_TIMEOUT", opt("SUPPORTBOT_BODY_TIMEOUT") or "30"),
            keepalive_timeout=_seconds(
                "SUPPORTBOT_KEEPALIVE_TIMEOUT", opt("SUPPORTBOT_KEEPALIVE_TIMEOUT") or "5"
            ),
            max_connections=_count("SUPPORTBOT_MAX_CONNECTIONS", opt("SUPPORTBOT_MAX_CONNECTIONS") or "1000"),
            max_connections_per_address=_count(
                "SUPPORTBOT_MAX_CONNECTIONS_PER_ADDRESS",
                opt("SUPPORTBOT_MAX_CONNECTIONS_PER_ADDRESS") or "64",
            ),
            slack_bot_token=opt("SLACK_BOT_TOKEN"),
            slack_signing_secret=opt("SLACK_SIGNING_SECRET"),
            slack_app_token=opt("SLACK_APP_TOKEN"),
            slack_escalation_channel=opt("SLACK_ESCALATION_CHANNEL"),
            slack_api_url=_url("SLACK_API_URL", opt("SLACK_API_URL")),
            **_together(
                e,
                ("zendesk_subdomain", "ZENDESK_SUBDOMAIN"),
                ("zendesk_email", "ZENDESK_EMAIL"),
                ("zendesk_api_token", "ZENDESK_API_TOKEN"),
            ),
            **_together(
                e, ("freshdesk_domain", "FRESHDESK_DOMAIN"), ("freshdesk_api_key", "FRESHDESK_API_KEY")
            ),
            **_chatwoot(e),
            redis_url=_redis_url(opt("REDIS_URL")),
            escalation_window_minutes=_minutes(
                "SUPPORTBOT_ESCALATION_WINDOW_MINUTES", opt("SUPPORTBOT_ESCALATION_WINDOW_MINUTES") or "60"
            ),
            escalations_per_address=_count(
                "SUPPORTBOT_ESCALATIONS_PER_ADDRESS", opt("SUPPORTBOT_ESCALATIONS_PER_ADDRESS") or "3"
            ),
        )


def _redis_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"REDIS_URL={value!r}: use redis://host:port/db (rediss:// for TLS), or unset it to count "
            "rate limits in each process"
        )
    return value


def _database_url(value: str) -> str:
    # Heroku still hands out postgres://, which SQLAlchemy no longer accepts.
    if value.startswith("postgres://"):
        value = "postgresql://" + value[len("postgres://") :]
    if not value.startswith(("sqlite:", "postgresql:", "postgresql+")):
        raise ConfigError(
            f"DATABASE_URL={value!r} is not supported: use sqlite:///path.db or postgresql://user@host/db"
        )
    return value


def _port(name: str, value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} must be a port number such as 8000") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{name}={value!r} must be between 1 and 65535")
    return port


def _switch(name: str, value: str | None) -> bool:
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r} must be 1 (on) or 0 (off)")


def _minutes(name: str, value: str) -> float:
    try:
        minutes = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} must be a number of minutes such as 30") from None
    if not minutes > 0:
        raise ConfigError(f"{name}={value!r} must be more than 0 minutes")
    return minutes


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} must be a number of seconds such as 10") from None
    if not 0 < seconds <= 3600:
        raise ConfigError(f"{name}={value!r} must be more than 0 and at most 3600 seconds")
    return seconds


def _count(name: str, value: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= 1_000_000:
        raise ConfigError(f"{name}={value!r} must be a whole number from 1 to 1000000")
    return int(value)


def _nameservers(value: str | None) -> tuple[tuple[str, int], ...]:
    if not value:
        return ()
    servers = []
    for item in _split(value):
        host, port = item, 53
        if item.startswith("["):  # [::1]:5353
            host, _, rest = item[1:].partition("]")
            port = _port("SUPPORTBOT_NAMESERVERS", rest.lstrip(":") or "53")
        elif item.count(":") == 1:
            host, raw_port = item.split(":")
            port = _port("SUPPORTBOT_NAMESERVERS", raw_port)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(
                f"SUPPORTBOT_NAMESERVERS: {item!r} is not an IP address; write e.g. 127.0.0.1:5353"
            ) from None
        servers.append((host, port))
    return tuple(servers)


def _networks(name: str, value: str | None) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if not value:
        return ()
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in _split(value))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}; write CIDRs such as 127.0.0.0/8,::1/128") from None


def _port_map(value: str | None) -> dict[int, int]:
    if not value:
        return {}
    mapping = {}
    for item in _split(value):
        left, sep, right = item.partition("=")
        if not sep:
            raise ConfigError(
                f"SUPPORTBOT_SMTP_PORTS: {item!r} must look like 25=2525 (probe port=real port)"
            )
        source = _port("SUPPORTBOT_SMTP_PORTS", left)
        if source not in (25, 465, 587):
            raise ConfigError(f"SUPPORTBOT_SMTP_PORTS: only 25, 465 and 587 can be remapped, not {source}")
        mapping[source] = _port("SUPPORTBOT_SMTP_PORTS", right)
    return mapping


def _zones(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    return tuple(z.strip(".").lower() for z in _split(value))


def _origins(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    origins = tuple(o.rstrip("/") for o in _split(value))
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigError(
                f"SUPPORTBOT_WIDGET_ORIGINS: {origin!r} must be an origin such as https://help.example.com"
            )
    return origins


def _url(name: str, value: str | None) -> str | None:
    if value and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name}={value!r} must be an http:// or https:// URL")
    return value


def _together(env: Mapping[str, str], *pairs: tuple[str, str]) -> dict[str, Any]:
    """Variables that only make sense as a set (a helpdesk's address and credentials): all or none."""
    names = dict(pairs)  # settings field -> environment variable
    values = {field: (env.get(var, "").strip() or None) for field, var in names.items()}
    given = [names[f] for f, v in values.items() if v]
    if given and len(given) < len(names):
        missing = ", ".join(var for f, var in names.items() if not values[f])
        raise ConfigError(f"{', '.join(given)} is set but {missing} is not; set all of them or none")
    return values


def _chatwoot(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        _together(
            env,
            ("chatwoot_url", "CHATWOOT_URL"),
            ("chatwoot_bot_token", "CHATWOOT_BOT_TOKEN"),
            ("chatwoot_account_id", "CHATWOOT_ACCOUNT_ID"),
            ("chatwoot_secret", "SUPPORTBOT_CHATWOOT_SECRET"),
        )
    )
    url, account = values["chatwoot_url"], values["chatwoot_account_id"]
    if url is None:
        return values
    values["chatwoot_url"] = _url("CHATWOOT_URL", str(url).rstrip("/"))
    if not str(account).isdigit():
        raise ConfigError(
            f"CHATWOOT_ACCOUNT_ID={account!r} must be the number in your Chatwoot URL (/app/accounts/<N>/...)"
        )
    values["chatwoot_account_id"] = int(str(account))
    if len(str(values["chatwoot_secret"])) < 16:
        raise ConfigError(
            "SUPPORTBOT_CHATWOOT_SECRET must be at least 16 characters; make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`"
        )
    return values


def _address(name: str, value: str | None) -> str | None:
    if value and (value.count("@") != 1 or " " in value or value.startswith("@") or value.endswith("@")):
        raise ConfigError(f"{name}={value!r} must be one e-mail address such as support@example.com")
    return value


def _office_hours(spec: str | None, timezone: str | None, reply: str | None) -> OfficeHours | None:
    if spec is None:
        if timezone or reply:
            raise ConfigError(
                "SUPPORTBOT_TIMEZONE and SUPPORTBOT_REPLY_TIME need SUPPORTBOT_OFFICE_HOURS too, "
                "e.g. SUPPORTBOT_OFFICE_HOURS='Mon-Fri 09:00-17:00'"
            )
        return None
    return parse(spec, timezone, reply)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
