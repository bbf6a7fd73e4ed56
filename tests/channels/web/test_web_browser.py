"""The widget in headless Chromium: embedded on another origin, clicked, typed, reloaded, keyboard, phone."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.support.web import AGENT_KEY, HOSTILE, chromium_path, live_server

CHROMIUM = chromium_path()
DOCS = Path(__file__).resolve().parents[3] / "docs"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium (apt install chromium)"),
]

# A host page that tries hard to restyle everything: the widget must look the same anyway.
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme hosting help</title>
<style>
  * {{ font-family: serif !important; color: green !important; }}
  button {{ background: red !important; font-size: 40px !important; }}
  iframe {{ display: none !important; }}
</style></head>
<body><a href="#top">Acme help centre</a><h1>Can't send email?</h1>
<p>Our assistant can check your settings.</p>
<script src="{bot}/widget.js" data-flow="cant-send-email" data-title="Email help"
        data-color="#6a1b9a" async></script>
</body></html>"""


@contextlib.asynccontextmanager
async def site(make_app: Callable[..., Awaitable[Starlette]]) -> AsyncIterator[tuple[str, str]]:
    """The bot on one origin and a customer's help page on another; yields (bot_url, page_url)."""
    bot: dict[str, str] = {}

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(HOST_PAGE.format(bot=bot["url"]))

    async with live_server(Starlette(routes=[Route("/", page)])) as page_url:  # noqa: SIM117
        # The bot's allowed origins must name the page, so the page server starts first.
        async with live_server(await make_app(widget_origins=(page_url,))) as bot_url:
            bot["url"] = bot_url
            yield bot_url, page_url


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[object]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def watch(page: object) -> list[str]:
    """Collect anything that would show script ran: dialogs and page errors."""
    fired: list[str] = []

    async def on_dialog(dialog: object) -> None:
        fired.append(f"dialog: {dialog.message}")  # type: ignore[attr-defined]
        await dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", on_dialog)  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: fired.append(f"pageerror: {exc}"))  # type: ignore[attr-defined]
    return fired


async def test_widget_end_to_end_on_another_origin(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with site(make_app) as (bot_url, page_url), chromium() as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        page = await context.new_page()
        fired = await watch(page)
        await page.goto(page_url)

        launcher = page.get_by_role("button", name="Open chat: Email help")
        await launcher.click()
        frame = page.frame_locator("iframe[title='Email help chat']")
        await expect(frame.get_by_role("log")).to_contain_text("emails aren't sending")

        # Answer by clicking, then by typing.
        await frame.get_by_role("button", name="It can't connect to the server or times out").click()
        box = frame.get_by_label("Type your answer")
        await box.fill("example.com")
        await box.press("Enter")
        await frame.get_by_role("button", name="Yes, check it").click()

        # The probe checklist: pass with the hostile banner shown as text, then a warning.
        checklist = frame.locator("ul.checklist").first
        await expect(checklist.locator("li.pass")).to_contain_text(HOSTILE)
        await frame.get_by_role("button", name="An error, or no reply").click()
        await expect(frame.locator("ul.checklist li.warn")).to_contain_text("no STARTTLS")
        await checklist.locator("summary").first.click()
        await expect(checklist.locator("pre")).to_contain_text(f"220 mail.example.com ESMTP {HOSTILE}")

        # The customer types markup: it is shown literally.
        await box.fill("<script>alert(3)</script> and " + HOSTILE)
        await box.press("Enter")
        await expect(frame.locator(".msg.user").last).to_contain_text("<script>alert(3)</script>")
        assert await frame.locator("img, script:not([src])").count() == 0
        await checklist.evaluate("el => el.scrollIntoView({block: 'start'})")
        await page.screenshot(path=str(DOCS / "widget-desktop.png"))

        # Reload: the same conversation comes back, with its checklist.
        await page.reload()
        frame = page.frame_locator("iframe[title='Email help chat']")
        await expect(frame.locator("ul.checklist li.pass")).to_contain_text(HOSTILE)
        await expect(frame.locator(".msg.user").last).to_contain_text("<script>alert(3)</script>")

        # Ask for a person; an agent answers through the agent API and the reply appears live.
        await frame.get_by_role("button", name="Talk to a human").click()
        await expect(frame.get_by_role("log")).to_contain_text("support team")
        cid = await frame.locator("body").evaluate(
            "() => JSON.parse(localStorage.getItem('supportbot:conversation:cant-send-email')).id"
        )
        async with httpx.AsyncClient(
            base_url=bot_url, headers={"Authorization": f"Bearer {AGENT_KEY}"}
        ) as api:
            base = f"/api/agent/conversations/{cid}"
            assert (await api.post(f"{base}/claim", json={"agent": "Sam"})).status_code == 200
            r = await api.post(f"{base}/messages", json={"agent": "Sam", "text": f"Hi, Sam here. {HOSTILE}"})
            assert r.status_code == 201
        await expect(frame.locator(".msg.agent")).to_contain_text(f"Hi, Sam here. {HOSTILE}")
        await expect(frame.get_by_role("status")).to_contain_text("chatting with Sam")

        assert fired == []
        await context.close()


async def test_widget_with_the_keyboard_only(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with site(make_app) as (_, page_url), chromium() as browser:
        page = await browser.new_page()  # type: ignore[attr-defined]
        fired = await watch(page)
        await page.goto(page_url)
        await page.get_by_role("button", name="Open chat: Email help").wait_for()

        # Tab from the top of the page: the host's link, then the launcher.
        focused = (
            "() => { const r = document.querySelector('[data-supportbot]').shadowRoot;"
            " return r.activeElement ? r.activeElement.getAttribute('aria-label') : null; }"
        )
        for _ in range(5):
            await page.keyboard.press("Tab")
            if await page.evaluate(focused) == "Open chat: Email help":
                break
        assert await page.evaluate(focused) == "Open chat: Email help"
        await page.keyboard.press("Enter")

        frame = page.frame_locator("iframe[title='Email help chat']")
        first = frame.get_by_role("button", name="It can't connect to the server or times out")
        await expect(first).to_be_focused()
        await page.keyboard.press("Enter")
        box = frame.get_by_label("Type your answer")
        await expect(box).to_be_focused()
        await page.keyboard.type("example.com")
        await page.keyboard.press("Enter")
        await expect(frame.get_by_role("button", name="Yes, check it")).to_be_visible()
        # Back from the text box to the answers: the last choice, then the first.
        await page.keyboard.press("Shift+Tab")
        await page.keyboard.press("Shift+Tab")
        await expect(frame.get_by_role("button", name="Yes, check it")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(frame.locator("ul.checklist li.pass")).to_be_visible()

        # Escape closes the panel and gives focus back to the launcher.
        await page.keyboard.press("Escape")
        await expect(page.locator("iframe[title='Email help chat']")).to_be_hidden()
        assert await page.evaluate(focused) == "Open chat: Email help"
        assert fired == []


async def test_widget_on_a_phone_sized_screen(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with site(make_app) as (_, page_url), chromium() as browser:
        context = await browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": 375, "height": 667}, device_scale_factor=2, has_touch=True
        )
        page = await context.new_page()
        fired = await watch(page)
        await page.goto(page_url)
        await page.get_by_role("button", name="Open chat: Email help").click()
        frame_el = page.locator("iframe[title='Email help chat']")
        frame = page.frame_locator("iframe[title='Email help chat']")
        await frame.get_by_role("button", name="It can't connect to the server or times out").click()
        box = frame.get_by_label("Type your answer")
        await box.fill("example.com")
        await box.press("Enter")
        await frame.get_by_role("button", name="Yes, check it").click()
        await expect(frame.locator("ul.checklist li.pass")).to_be_visible()

        bounds = await frame_el.bounding_box()
        assert bounds is not None
        assert bounds["x"] == 0 and bounds["width"] == 375 and bounds["height"] == 667
        overflow = await frame.locator("body").evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0
        await expect(frame.get_by_role("button", name="Talk to a human")).to_be_in_viewport()
        await expect(frame.get_by_role("button", name="Close chat")).to_be_in_viewport()
        await expect(box).to_be_in_viewport()
        await page.screenshot(path=str(DOCS / "widget-mobile.png"))

        await frame.get_by_role("button", name="Close chat").click()
        await expect(frame_el).to_be_hidden()
        await expect(page.get_by_role("button", name="Open chat: Email help")).to_be_visible()
        assert fired == []
        await context.close()
