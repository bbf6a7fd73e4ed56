"""Wires the real parts from settings: flows, probes, database, live events, sinks and the service."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from bot.engine.engine import Engine
from bot.engine.probing import ProbePort
from bot.engine.registry import FlowRegistry
from bot.errors import StorageError
from bot.escalation import outbox, worker
from bot.escalation.freshdesk import freshdesk_sink
from bot.escalation.outbox import Policy
from bot.escalation.sinks import EmailSink, Sink, WebhookSink
from bot.escalation.zendesk import zendesk_sink
from bot.redaction import install_log_redaction
from bot.service import ConversationService
from bot.service.ports import EscalationGate
from bot.settings import Settings
from bot.storage.driver import Driver, open_driver
from bot.storage.migrate import upgrade_url
from bot.storage.pubsub import LocalBus, PostgresBus, asyncpg_dsn

# Entry points (pyproject.toml) naming `make(settings) -> Sink | None` for the sinks a channel brings.
CHANNEL_SINKS = "supportbot.channel_sinks"


@dataclass
class Parts:
    """Everything a process needs; entrypoints (serve, worker, chat) take what they use."""

    settings: Settings
    registry: FlowRegistry
    engine: Engine
    driver: Driver  # the process's one database connection (SQLite) or pool (PostgreSQL)
    events: LocalBus
    service: ConversationService
    sinks: dict[str, Sink] = field(default_factory=dict)

    async def health(self) -> None:
        """Raises when the database can't answer; /healthz turns that into 503."""
        try:
            async with self.driver.read() as session:
                await session.one("SELECT 1")
        except Exception as exc:
            raise StorageError(f"database unavailable: {type(exc).__name__}") from exc

    async def outbox_backlog(self) -> int:
        return await outbox.backlog(self.driver)

    async def delivery_loop(self, stop: asyncio.Event | None = None, policy: Policy | None = None) -> None:
        """Deliver escalations until `stop` is set or the task is cancelled (the worker, or the web
        process on SQLite, which starts it in its lifespan so one process needs no second command)."""
        await worker.run_forever(self.driver, self.sinks, stop, policy=policy)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.events.close()
        await self.driver.close()


def build_sinks(settings: Settings) -> dict[str, Sink]:
    """The sinks configured in the environment: webhook, e-mail, Zendesk, Freshdesk, then each channel's
    (Slack, Chatwoot)."""
    sinks: dict[str, Sink] = {}
    if settings.escalation_webhook_url:
        sinks["webhook"] = WebhookSink(settings.escalation_webhook_url, settings.webhook_secret)
    if settings.escalation_email and settings.smtp_url:
        sinks["email"] = EmailSink(settings.smtp_url, settings.escalation_email)
    for helpdesk in (zendesk_sink(settings), freshdesk_sink(settings)):
        if helpdesk is not None:
            sinks[helpdesk.name] = helpdesk
    for entry in sorted(entry_points(group=CHANNEL_SINKS), key=lambda e: e.name):
        # A channel that delivers hand-overs (Slack) registers its sink here, so wiring needs no channel.
        sink = entry.load()(settings)
        if sink is not None:
            sinks[entry.name] = sink
    return sinks


def live_probes(settings: Settings) -> ProbePort:
    from bot.probes import LiveProbes

    return LiveProbes(settings)


async def build(
    settings: Settings | None = None,
    *,
    probes: ProbePort | None = None,
    registry: FlowRegistry | None = None,
    sinks: dict[str, Sink] | None = None,
    migrate: bool = True,
    escalation_gate: EscalationGate | None = None,
) -> Parts:
    """Build the parts; the schema is created or brought up to date unless `migrate` is False."""
    settings = settings or Settings.from_env()
    install_log_redaction()  # customer text in any log line: secrets hidden, CR/LF escaped
    registry = registry or FlowRegistry.load_dir(settings.flows_dir)
    engine = Engine(registry, probes or live_probes(settings))
    driver = open_driver(settings.database_url)
    if migrate:
        try:
            await upgrade_url(settings.database_url, driver)
        except BaseException:
            await driver.close()
            raise
    postgres = driver.dialect == "postgresql"
    bus: LocalBus = PostgresBus(asyncpg_dsn(settings.database_url), driver) if postgres else LocalBus()
    sinks = build_sinks(settings) if sinks is None else sinks
    service = ConversationService(
        driver,
        engine,
        bus,
        sinks=list(sinks),
        hours=settings.office_hours,
        gate=escalation_gate,
        repeat_window=settings.escalation_window_minutes * 60,
    )
    return Parts(settings, registry, engine, driver, bus, service, sinks)


async def run_until_cancelled(parts: Parts, policy: Policy | None = None, poll_interval: float = 0.5) -> None:
    """`supportbot worker`: deliver until SIGINT/SIGTERM cancels the task."""
    try:
        await worker.run_forever(parts.driver, parts.sinks, poll_interval=poll_interval, policy=policy)
    finally:
        await parts.close()
