"""Zendesk and Freshdesk sinks against fakes of their APIs: one ticket per escalation, whatever fails."""

from __future__ import annotations

import asyncio
import base64
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import Parts
from bot.engine.model import Incoming
from bot.errors import ConfigError, DeliveryError
from bot.escalation import outbox, worker
from bot.escalation.freshdesk import FreshdeskSink, reference_tag
from bot.escalation.outbox import Policy
from bot.escalation.tickets import helpdesk_url
from bot.escalation.zendesk import ZendeskSink
from bot.settings import Settings
from tests.fakes.helpdesks import (
    FRESHDESK_KEY,
    ZENDESK_EMAIL,
    ZENDESK_TOKEN,
    FakeFreshdesk,
    FakeHelpdesk,
    FakeZendesk,
)
from tests.support.serving import stop
from tests.support.storage import PYTHON, ROOT, child_env, running_parts

FAST = Policy(max_attempts=5, base_delay=0.0)


def zendesk_settings(url: str) -> dict[str, Any]:
    return {"zendesk_subdomain": url, "zendesk_email": ZENDESK_EMAIL, "zendesk_api_token": ZENDESK_TOKEN}


def freshdesk_settings(url: str) -> dict[str, Any]:
    return {"freshdesk_domain": url, "freshdesk_api_key": FRESHDESK_KEY}


async def escalate(parts: Parts, customer: dict[str, str] | None = None) -> str:
    """A reference-flow conversation that reaches a human; its outbox rows are pending."""
    cid = (await parts.service.start(None, "web", customer or {"name": "Jo"})).conversation_id
    await parts.service.reply(cid, Incoming(text="my password is hunter2 and I want a human"))
    return cid


async def deliver_all(parts: Parts, passes: int = 5) -> None:
    for _ in range(passes):
        await worker.deliver_due(parts.driver, parts.sinks, policy=FAST)
        if not await parts.outbox_backlog():
            return
        await asyncio.sleep(0.01)  # the backoff of FAST is zero, but next_attempt_at is "now"


async def test_zendesk_ticket_has_the_packet_as_an_internal_first_comment(database_url: str) -> None:
    async with (
        FakeZendesk().running() as zd,
        running_parts(database_url, **zendesk_settings(zd.url)) as parts,
    ):
        assert list(parts.sinks) == ["zendesk"]
        cid = await escalate(parts, {"name": "Jo Bloggs", "email": "jo@example.com"})
        await deliver_all(parts)
        [row] = await outbox.listing(parts.driver)
    assert row["status"] == "delivered"
    [lookup] = zd.of("lookup")
    assert lookup.path == "/api/v2/tickets.json" and lookup.query == {"external_id": row["idempotency_key"]}
    [create] = zd.of("create")
    assert create.status == 201
    expected = base64.b64encode(f"{ZENDESK_EMAIL}/token:{ZENDESK_TOKEN}".encode()).decode()
    assert create.headers["Authorization"] == f"Basic {expected}"
    assert create.headers["Idempotency-Key"] == row["idempotency_key"]
    ticket = create.body["ticket"]
    assert ticket["external_id"] == row["idempotency_key"]
    assert ticket["requester"] == {"name": "Jo Bloggs", "email": "jo@example.com"}
    assert ticket["comment"]["public"] is False
    evidence = ticket["comment"]["html_body"]
    assert cid not in ticket["subject"] and "Summary:" in evidence and "I want a human" in evidence
    assert "hunter2" not in str(create.body) and "[redacted]" in evidence
    assert "supportbot" in ticket["tags"] and any(t.startswith("cause_") for t in ticket["tags"])
    assert all(" " not in t for t in ticket["tags"])
    assert len(zd.tickets) == 1


async def test_zendesk_probe_findings_become_tags() -> None:
    packet = {
        "conversation": "c_1",
        "flow": {"id": "cant-send-email", "version": "3", "title": "I can't send emails"},
        "reason": "Port 587 is closed",
        "channel": "slack",
        "customer": {"slack_user": "U1"},
        "slots": {"domain": "example.com"},
        "path": ["start", "escalate_submission_down"],
        "probes": [
            {"id": "smtp_587", "status": "fail", "summary": "closed"},
            {"id": "mx", "status": "pass", "summary": "fine"},
        ],
        "summary": "s",
        "transcript": [],
    }
    async with FakeZendesk().running() as zd:
        await ZendeskSink(zd.url, ZENDESK_EMAIL, ZENDESK_TOKEN).deliver(packet, "esc-9-zendesk")
    [ticket] = zd.tickets.values()
    assert ticket["tags"] == [
        "supportbot",
        "flow_cant-send-email",
        "channel_slack",
        "cause_escalate_submission_down",
        "probe_smtp_587_fail",
    ]
    assert "requester" not in ticket  # no address given: Zendesk makes the API user the requester
    assert ticket["subject"] == "I can't send emails (example.com): Port 587 is closed"


async def test_zendesk_redelivery_after_the_key_expired_finds_the_ticket(database_url: str) -> None:
    async with (
        FakeZendesk().running() as zd,
        running_parts(database_url, **zendesk_settings(zd.url)) as parts,
    ):
        zd.honour_idempotency_key = False  # only the external_id lookup stands between us and a duplicate
        await escalate(parts)
        [job] = await outbox.lease(parts.driver)
        sink = parts.sinks["zendesk"]
        await sink.deliver(job.packet, job.idempotency_key)
        await sink.deliver(job.packet, job.idempotency_key)  # as if the first success was never recorded
    assert len(zd.tickets) == 1 and len(zd.of("create")) == 1 and len(zd.of("lookup")) == 2


async def test_zendesk_errors_are_retried_or_dead_as_they_deserve(database_url: str) -> None:
    async with (
        FakeZendesk().running() as zd,
        running_parts(database_url, **zendesk_settings(zd.url)) as parts,
    ):
        zd.fail("create", 503)
        zd.fail("lookup", 429, headers={"Retry-After": "0"})
        await escalate(parts)
        await deliver_all(parts)
        [row] = await outbox.listing(parts.driver)
        assert row["status"] == "delivered" and row["attempts"] == 2
    assert len(zd.tickets) == 1

    async with FakeZendesk(token="another-token").running() as zd:
        sink = ZendeskSink(zd.url, ZENDESK_EMAIL, ZENDESK_TOKEN)
        with pytest.raises(DeliveryError) as caught:
            await sink.deliver({"reason": "r", "transcript": [], "flow": {}, "probes": []}, "esc-1-zendesk")
    assert caught.value.permanent and "ZENDESK_API_TOKEN" in str(caught.value)
    assert "401" in str(caught.value) and ZENDESK_TOKEN not in str(caught.value)


async def test_freshdesk_ticket_then_one_private_note_with_the_evidence(database_url: str) -> None:
    async with (
        FakeFreshdesk().running() as fd,
        running_parts(database_url, **freshdesk_settings(fd.url)) as parts,
    ):
        assert list(parts.sinks) == ["freshdesk"]
        cid = await escalate(parts)
        await deliver_all(parts)
        [row] = await outbox.listing(parts.driver)
    assert row["status"] == "delivered"
    key = row["idempotency_key"]
    [lookup] = fd.of("lookup")
    assert lookup.path == "/api/v2/search/tickets" and lookup.query == {"query": f"\"tag:'sb-{key}'\""}
    [create] = fd.of("create")
    expected = base64.b64encode(f"{FRESHDESK_KEY}:X".encode()).decode()
    assert create.headers["Authorization"] == f"Basic {expected}"
    ticket = create.body
    assert ticket["status"] == 2 and ticket["source"] == 7 and reference_tag(key) in ticket["tags"]
    # No address was given: the requester is a contact keyed on this customer, named after them.
    assert ticket["name"] == "Jo" and cid in ticket["unique_external_id"] and "email" not in ticket
    # What the requester can see says why; the transcript and probes are only in the private note.
    assert "Transcript" not in ticket["description"] and "I want a human" not in ticket["description"]
    [note] = fd.of("note")
    assert note.path == f"/api/v2/tickets/{ticket_id(fd)}/notes"
    assert note.body["private"] is True and "I want a human" in note.body["body"]
    assert key in note.body["body"] and "hunter2" not in note.body["body"]


def ticket_id(fake: FakeHelpdesk) -> int:
    [found] = fake.tickets
    return found


async def test_freshdesk_note_that_failed_is_added_on_retry_without_a_second_ticket(
    database_url: str,
) -> None:
    async with (
        FakeFreshdesk().running() as fd,
        running_parts(database_url, **freshdesk_settings(fd.url)) as parts,
    ):
        fd.fail("note", 502)
        await escalate(parts, {"name": "Jo", "email": "jo@example.com"})
        await deliver_all(parts)
        [row] = await outbox.listing(parts.driver)
    assert row["status"] == "delivered" and row["attempts"] == 1
    assert len(fd.tickets) == 1 and len(fd.of("create")) == 1
    assert [n["private"] for n in fd.notes[ticket_id(fd)]] == [True]
    assert fd.of("create")[0].body["email"] == "jo@example.com"


# -- a worker killed after the helpdesk accepted the request -------------------------------------


@pytest.fixture
async def helpdesk(request: pytest.FixtureRequest) -> AsyncIterator[FakeHelpdesk]:
    fake: FakeHelpdesk = FakeZendesk() if request.param.startswith("zendesk") else FakeFreshdesk()
    async with fake.running():
        yield fake


async def start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            PYTHON, "-m", "bot", "worker", "--poll", "0.05", cwd=ROOT, env=env, stdout=out, stderr=out
        )


@pytest.mark.slow
@pytest.mark.fault
@pytest.mark.parametrize(
    ("helpdesk", "held"),
    [
        ("zendesk", "create"),
        ("zendesk-key-expired", "create"),
        ("freshdesk", "create"),
        ("freshdesk", "note"),
    ],
    indirect=["helpdesk"],
)
async def test_worker_killed_after_the_post_succeeded_makes_no_second_ticket(
    database_url: str, helpdesk: FakeHelpdesk, held: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    zendesk = isinstance(helpdesk, FakeZendesk)
    if isinstance(helpdesk, FakeZendesk) and "key-expired" in request.node.callspec.id:
        helpdesk.honour_idempotency_key = False
    config: dict[str, Any] = zendesk_settings(helpdesk.url) if zendesk else freshdesk_settings(helpdesk.url)
    env_names = {
        "zendesk_subdomain": "ZENDESK_SUBDOMAIN",
        "zendesk_email": "ZENDESK_EMAIL",
        "zendesk_api_token": "ZENDESK_API_TOKEN",
        "freshdesk_domain": "FRESHDESK_DOMAIN",
        "freshdesk_api_key": "FRESHDESK_API_KEY",
    }
    env = child_env(
        DATABASE_URL=database_url,
        SUPPORTBOT_OUTBOX_BASE_DELAY="0.05",
        SUPPORTBOT_OUTBOX_LEASE="1",
        **{env_names[k]: v for k, v in config.items()},
    )
    log = tmp_path / "worker.log"
    async with running_parts(database_url, **config) as parts:
        await escalate(parts)
        helpdesk.hold(held)
        first = await start_worker(env, log)
        try:
            await (
                helpdesk.held()
            )  # the helpdesk has made the ticket (or note); the worker waits for the answer
            first.send_signal(signal.SIGKILL)
            await first.wait()
        finally:
            await stop(first)
        helpdesk.release()
        [row] = await outbox.listing(parts.driver)
        assert row["status"] == "pending"  # the worker died before it could mark the row
        second = await start_worker(env, log)
        try:
            async with asyncio.timeout(60):
                # The row in the database is the only sign of the mark: nothing is published for it.
                while await parts.outbox_backlog():  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            await stop(second)
        [row] = await outbox.listing(parts.driver)
    assert row["status"] == "delivered", log.read_text()
    assert len(helpdesk.tickets) == 1
    assert len(helpdesk.of("create")) == 1  # the second worker found the ticket and did not post again
    if isinstance(helpdesk, FakeFreshdesk):
        assert len(helpdesk.notes[ticket_id(helpdesk)]) == 1


# -- configuration ---------------------------------------------------------------------------------


def test_helpdesk_addresses_from_subdomain_host_or_url() -> None:
    assert helpdesk_url("ZENDESK_SUBDOMAIN", "acme", "zendesk.com") == "https://acme.zendesk.com"
    assert helpdesk_url("ZENDESK_SUBDOMAIN", "acme.zendesk.com", "zendesk.com") == "https://acme.zendesk.com"
    assert helpdesk_url("FRESHDESK_DOMAIN", "help.acme.com", "freshdesk.com") == "https://help.acme.com"
    assert helpdesk_url("FRESHDESK_DOMAIN", "http://127.0.0.1:9/", "freshdesk.com") == "http://127.0.0.1:9"
    with pytest.raises(ConfigError, match=r"ZENDESK_SUBDOMAIN='acme corp' is not a host name.*acme\.zendesk"):
        helpdesk_url("ZENDESK_SUBDOMAIN", "acme corp", "zendesk.com")


def test_half_configured_helpdesks_fail_at_start_naming_what_is_missing() -> None:
    with pytest.raises(
        ConfigError, match="ZENDESK_SUBDOMAIN, ZENDESK_EMAIL is set but ZENDESK_API_TOKEN is not"
    ):
        Settings.from_env({"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@b.c"})
    with pytest.raises(ConfigError, match="FRESHDESK_API_KEY is set but FRESHDESK_DOMAIN is not"):
        Settings.from_env({"FRESHDESK_API_KEY": "k"})
    settings = Settings.from_env(
        {
            "ZENDESK_SUBDOMAIN": "acme",
            "ZENDESK_EMAIL": "a@b.c",
            "ZENDESK_API_TOKEN": "t",
            "FRESHDESK_DOMAIN": "acme",
            "FRESHDESK_API_KEY": "k",
        }
    )
    assert settings.escalation_sinks() == ("zendesk", "freshdesk")
    assert isinstance(FreshdeskSink("https://acme.freshdesk.com", "k"), FreshdeskSink)
