"""The widget on another site with third-party storage blocked: hand-over, reload, unread, e-mail back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from playwright.async_api import expect
from starlette.applications import Starlette

from bot.channels.web.context import WebContext
from tests.support.browser import CHROMIUM, SIZES, axe, chromium, cross_site, links, shoot
from tests.support.web import AGENT_KEY, held_probes

FRAME = "iframe[title='Email help chat']"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium (apt install chromium)"),
]


async def packet_customer(app: Starlette) -> dict[str, Any]:
    ctx = app.state.web
    async with ctx.service.driver.read() as s:
        row = await s.one("SELECT packet FROM escalations ORDER BY id DESC LIMIT 1")
    assert row is not None
    packet = orjson.loads(row[0])
    return dict(packet["customer"])


async def until(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    for _ in range(int(seconds * 20)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_escalated_conversation_survives_reload_and_reaches_a_departed_customer(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    async with cross_site(make_app) as sites, chromium() as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(sites.shop_url)
        await page.get_by_role("button", name="Open chat: Email help").click()
        frame = page.frame_locator(FRAME)
        await expect(frame.get_by_role("log")).to_contain_text("emails aren't sending")

        # The premise: the bot's frame cannot use its own storage on this site.
        blocked = await frame.locator("body").evaluate(
            "() => { try { localStorage.length; return 'usable'; } catch (e) { return e.name; } }"
        )
        assert blocked == "SecurityError"

        # Hand-over: "Talk to a human" goes once and stays off while waiting; the e-mail is asked.
        human = frame.get_by_role("button", name="Talk to a human")
        await human.click()
        await expect(frame.get_by_role("log")).to_contain_text("support team")
        await expect(human).to_be_disabled()
        email = frame.get_by_label("Where can we reach you if you leave this page? (optional)")
        await email.fill("not an address")
        await frame.get_by_role("button", name="Send replies to this address").click()
        await expect(frame.locator("#sb-email-error")).to_contain_text("you@example.com")
        await email.fill("pat@example.com")
        await frame.get_by_role("button", name="Send replies to this address").click()
        await expect(frame.locator("#sb-state")).to_contain_text("Waiting for a person since")
        await expect(frame.locator("#sb-state")).to_contain_text("pat@example.com")
        assert (await packet_customer(sites.app))["email"] == "pat@example.com"

        # The token lives in the shop's own storage; a reload resumes the same conversation.
        key = f"supportbot:conversation:{sites.bot_url}:cant-send-email"
        saved = orjson.loads(await page.evaluate(f"() => localStorage.getItem({key!r})"))
        cid = saved["id"]
        await page.reload()
        frame = page.frame_locator(FRAME)
        await expect(frame.locator(".msg.handoff")).to_contain_text("support team")
        await expect(frame.locator("#sb-state")).to_contain_text("Waiting for a person since")
        await expect(frame.get_by_role("button", name="Talk to a human")).to_be_disabled()
        again = orjson.loads(await page.evaluate(f"() => localStorage.getItem({key!r})"))
        assert again["id"] == cid

        # No one-click abandon: the menu asks before leaving a conversation a person handles.
        await frame.get_by_role("button", name="More options").click()
        await frame.get_by_role("button", name="Start a new conversation").click()
        await expect(frame.get_by_role("button", name="Keep this conversation")).to_be_focused()
        await frame.get_by_role("button", name="Keep this conversation").click()

        agent = httpx.AsyncClient(base_url=sites.bot_direct, headers={"Authorization": f"Bearer {AGENT_KEY}"})
        async with agent:
            base = f"/api/agent/conversations/{cid}"
            # An agent's reply while the panel is closed (page visible): a badge with a count.
            await page.get_by_role("button", name="Close chat: Email help").click()
            assert (await agent.post(f"{base}/claim", json={"agent": "Sam"})).status_code == 200
            for text in ("Hi, Sam here.", "Can you send a test message?"):
                assert (
                    await agent.post(f"{base}/messages", json={"agent": "Sam", "text": text})
                ).status_code == 201
            launcher = page.get_by_role("button", name="Open chat: Email help (2 new messages)")
            await expect(launcher).to_be_visible()
            await launcher.click()
            await expect(frame.locator("#sb-state")).to_contain_text("chatting with Sam")
            await expect(frame.locator(".msg.agent").last).to_contain_text("Can you send a test message?")
            assert sites.inbox == []  # the customer was there: nothing e-mailed

            # The customer leaves; the next reply goes out by e-mail with a single-use link.
            await context.close()
            web: WebContext = sites.app.state.web
            await until(lambda: cid not in web.present, "the customer's event stream to close")
            reply = "Your mailbox was full; I emptied it. Try again now."
            assert (
                await agent.post(f"{base}/messages", json={"agent": "Sam", "text": reply})
            ).status_code == 201
            await until(lambda: len(sites.inbox) == 1, "the agent's reply by e-mail")
            mail = sites.inbox[0]
            assert mail["To"] == "pat@example.com"
            body = mail.get_body(preferencelist=("plain",))
            assert body is not None and reply in str(body.get_content())
            (link,) = [u for u in links(mail) if "/widget/panel.html#" in u]

            later = await browser.new_context(viewport={"width": 1280, "height": 800})
            opened = await later.new_page()
            await opened.goto(link)
            await expect(opened.locator(".msg.agent").last).to_contain_text(reply)
            await expect(opened.locator("#sb-state")).to_contain_text("chatting with Sam")
            assert "resume=" not in opened.url  # the spent ticket is gone from the address bar
            await opened.get_by_label("Type your answer").fill("It works now, thanks!")
            await opened.get_by_label("Type your answer").press("Enter")
            await expect(opened.locator(".msg.user").last).to_contain_text("It works now")

            # The link works once: a second browser gets a fresh conversation and is told why.
            other = await browser.new_context()
            stale = await other.new_page()
            await stale.goto(link)
            await expect(stale.locator("#sb-status")).to_contain_text("already used or has expired")
            await other.close()

            # Hand-back continues at the question the customer was on, never the welcome.
            r = await agent.post(f"{base}/handback", json={"agent": "Sam"})
            assert r.status_code == 200
            await expect(opened.locator("#sb-state")).to_contain_text("back with the support bot")
            await expect(opened.get_by_role("button", name="Talk to a human")).to_be_enabled()
            welcomes = await opened.locator(".msg.bot", has_text="emails aren't sending").count()
            assert welcomes == 1
            await later.close()
        assert errors == []


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_the_status_line_follows_the_conversation(
    make_app: Callable[..., Awaitable[Starlette]], size: str
) -> None:
    # Each state is asserted, then photographed for the README: bot, probe running and done,
    # waiting for a person, with a person, back with the bot.
    probes = held_probes()
    async with cross_site(make_app, probes=probes) as sites, chromium() as browser:
        context = await browser.new_context(viewport=SIZES[size], has_touch=size == "phone")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(sites.shop_url)
        await page.get_by_role("button", name="Open chat: Email help").click()
        frame = page.frame_locator(FRAME)
        state = frame.locator("#sb-state")
        await expect(state).to_have_text("You're chatting with the support bot.")
        first = frame.get_by_role("button", name="It can't connect to the server or times out")
        await expect(first).to_be_in_viewport()
        await shoot(page, f"widget-bot-{size}")

        # A probe that has not answered yet: the customer is told, and may still type or ask for a person.
        await first.click()
        box = frame.get_by_label("Type your answer")
        await box.fill("example.com")
        await box.press("Enter")
        await frame.get_by_role("button", name="Yes, check it").click()
        await asyncio.wait_for(probes.started.wait(), 10)
        await expect(frame.locator("#sb-progress")).to_have_text("Checking… You can keep typing.")
        await expect(box).to_be_enabled()
        await expect(frame.get_by_role("button", name="Talk to a human")).to_be_enabled()
        await shoot(page, f"widget-probe-running-{size}")
        probes.release.set()
        checklist = frame.locator("ul.checklist li.pass")
        await expect(checklist).to_contain_text("answered on port 25")
        await expect(frame.locator("#sb-progress")).to_be_hidden()
        await expect(frame.get_by_role("button", name="An error, or no reply")).to_be_visible()
        # The result's checklist is what this picture is for: scroll the log back to it.
        await checklist.evaluate("el => el.scrollIntoView({block: 'center'})")
        await expect(checklist).to_be_in_viewport()
        await shoot(page, f"widget-probe-result-{size}")

        # Waiting for a person: the status line says since when, and the e-mail address is asked.
        await frame.get_by_role("button", name="Talk to a human").click()
        await expect(state).to_contain_text("Waiting for a person since")
        await expect(frame.get_by_role("button", name="Talk to a human")).to_be_disabled()
        email = frame.get_by_label("Where can we reach you if you leave this page? (optional)")
        await expect(email).to_be_in_viewport()
        await shoot(page, f"widget-waiting-{size}")

        key = f"supportbot:conversation:{sites.bot_url}:cant-send-email"
        cid = orjson.loads(await page.evaluate(f"() => localStorage.getItem({key!r})"))["id"]
        agent = httpx.AsyncClient(base_url=sites.bot_direct, headers={"Authorization": f"Bearer {AGENT_KEY}"})
        async with agent:
            base = f"/api/agent/conversations/{cid}"
            assert (await agent.post(f"{base}/claim", json={"agent": "Sam"})).status_code == 200
            reply = "Hi, Sam here. Port 25 is blocked by your provider; use port 587 instead."
            assert (
                await agent.post(f"{base}/messages", json={"agent": "Sam", "text": reply})
            ).status_code == 201
            await expect(state).to_have_text("You're chatting with Sam from our support team.")
            await expect(frame.locator(".msg.agent").last).to_contain_text(reply)
            await expect(frame.locator(".msg.agent").last).to_be_in_viewport()
            await shoot(page, f"widget-agent-{size}")

            # Hand-back: the bot picks up at the question the customer was on.
            assert (await agent.post(f"{base}/handback", json={"agent": "Sam"})).status_code == 200
            await expect(state).to_have_text("You're back with the support bot.")
            await expect(frame.get_by_role("button", name="Talk to a human")).to_be_enabled()
            await expect(frame.get_by_role("button", name="An error, or no reply")).to_be_in_viewport()
            await shoot(page, f"widget-handback-{size}")
        assert errors == []
        await context.close()


@pytest.mark.parametrize(
    ("name", "viewport", "scale"),
    [("phone", (375, 740), 2), ("landscape", (740, 360), 2), ("zoom200", (640, 400), 2)],
)
async def test_every_answer_is_reachable(
    make_app: Callable[..., Awaitable[Starlette]], name: str, viewport: tuple[int, int], scale: int
) -> None:
    # 200% zoom of a 1280x800 window is a 640x400 CSS viewport at twice the pixel density.
    width, height = viewport
    async with cross_site(make_app) as sites, chromium() as browser:
        context = await browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=scale,
            has_touch=name != "zoom200",
        )
        page = await context.new_page()
        await page.goto(sites.shop_url)
        await page.get_by_role("button", name="Open chat: Email help").click()
        frame = page.frame_locator(FRAME)
        buttons = frame.locator("#sb-choices button")
        await expect(buttons.first).to_be_visible()
        count = await buttons.count()
        assert count >= 5
        for i in range(count):
            button = buttons.nth(i)
            await button.scroll_into_view_if_needed()
            await expect(button).to_be_in_viewport()
            # Nothing covers it: the element at its centre is the button itself.
            hit = await button.evaluate(
                "b => { const r = b.getBoundingClientRect();"
                " return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === b; }"
            )
            assert hit, f"answer {i + 1} of {count} is covered at {name}"
        if name == "phone":
            await shoot(page, "widget-answers-phone")
        # The frame is modal on small screens: the shop's page behind it is inert.
        assert await page.locator("main").evaluate("m => m.inert") is True
        await context.close()


async def test_no_serious_accessibility_problems(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with cross_site(make_app) as sites, chromium() as browser:
        for scheme, size in (("light", "desktop"), ("dark", "desktop"), ("dark", "phone")):
            context = await browser.new_context(viewport=SIZES[size], color_scheme=scheme)
            page = await context.new_page()
            await page.goto(sites.shop_url)
            await page.get_by_role("button", name="Open chat: Email help").click()
            frame = page.frame_locator(FRAME)
            await frame.get_by_role("button", name="Talk to a human").click()
            await expect(frame.locator("#sb-email")).to_be_visible()
            panel = next(f for f in page.frames if f.url.startswith(sites.bot_url + "/widget/panel.html"))
            assert await axe(panel) == [], f"the panel in {scheme} mode on a {size}"
            assert await axe(page.main_frame) == [], f"the shop page with the launcher in {scheme} mode"
            if scheme == "dark":
                # The panel really is dark: its background is darker than mid-grey.
                background = await frame.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
                red, green, blue = (int(x) for x in background[background.index("(") + 1 : -1].split(",")[:3])
                assert red + green + blue < 3 * 128, f"the panel's background in dark mode is {background}"
                await shoot(page, f"widget-dark-{size}")
            await context.close()


async def test_a_site_not_allowed_gets_no_launcher_and_a_console_message(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    async with (
        cross_site(make_app, widget_origins=("https://elsewhere.example",)) as sites,
        chromium() as browser,
    ):
        page = await browser.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        await page.goto(sites.shop_url)
        await until(lambda: any("SUPPORTBOT_WIDGET_ORIGINS" in c for c in console), "the console message")
        assert sites.shop_url in next(c for c in console if "SUPPORTBOT_WIDGET_ORIGINS" in c)
        assert await page.locator("[data-supportbot]").count() == 0
        assert await page.locator("iframe").count() == 0
