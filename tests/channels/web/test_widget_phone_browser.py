"""The phone panel is a real modal (Tab never reaches the page behind it), the strings follow `lang`,
and axe-core finds no serious or critical problem on the admin pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import expect
from starlette.applications import Starlette

from tests.support.admin import ADMIN_TOKEN, admin_settings, seed, seed_missed
from tests.support.browser import CHROMIUM, axe, chromium, cross_site
from tests.support.web import build_app, live_server

FRAME = "iframe[title='Email help chat']"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium (apt install chromium)"),
]
# What has focus on the shop's page: our widget's host element, or something of the shop's.
FOCUSED = "() => { const a = document.activeElement; return a && a.hasAttribute('data-supportbot') ? 'widget' : (a ? a.tagName + ' ' + (a.textContent || '').trim().slice(0, 30) : 'none'); }"


async def test_phone_panel_keeps_tab_inside(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with cross_site(make_app) as sites, chromium() as browser:
        context = await browser.new_context(viewport={"width": 375, "height": 740}, has_touch=True)
        page = await context.new_page()
        await page.goto(sites.shop_url)
        await page.get_by_role("button", name="Open chat: Email help").click()
        frame = page.frame_locator(FRAME)
        await expect(frame.locator("#sb-choices button").first).to_be_focused()
        # Forward round the whole panel twice, then backward: focus never lands on the shop's page.
        for key in ["Tab"] * 40 + ["Shift+Tab"] * 40:
            await page.keyboard.press(key)
            where = await page.evaluate(FOCUSED)
            assert where == "widget", f"{key} moved focus to the page behind the panel: {where}"
        # The panel's own controls were all reached on the way (the trap is not a dead end).
        assert await page.locator("main").evaluate("m => m.inert") is True
        await page.keyboard.press("Escape")
        await expect(page.get_by_role("button", name="Open chat: Email help")).to_be_focused()
        assert await page.locator("main").evaluate("m => m.inert") is False
        await context.close()


async def test_the_page_language_picks_the_strings(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with cross_site(make_app) as sites, chromium() as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
        page = await context.new_page()

        await page.goto(sites.shop_url + "/?lang=de")
        await page.get_by_role("button", name="Open chat: Email help").click()
        frame = page.frame_locator(FRAME)
        await expect(frame.locator("html")).to_have_attribute("lang", "de")
        await expect(frame.locator("#sb-state")).to_have_text("Sie chatten mit dem Support-Bot.")
        await expect(frame.get_by_role("button", name="Mit einem Menschen sprechen")).to_be_visible()
        await expect(frame.get_by_role("button", name="Senden")).to_be_visible()
        await expect(frame.get_by_placeholder("Antwort eingeben")).to_be_visible()
        await frame.get_by_role("button", name="Mit einem Menschen sprechen").click()
        await expect(frame.locator("#sb-state")).to_contain_text("Sie warten seit")
        await expect(
            frame.get_by_label("Wie erreichen wir Sie, wenn Sie die Seite verlassen? (freiwillig)")
        ).to_be_visible()
        # The browser's language is only the fallback: English page, German browser -> English.
        other = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
        english = await other.new_page()
        await english.goto(sites.shop_url)
        await english.get_by_role("button", name="Open chat: Email help").click()
        await expect(english.frame_locator(FRAME).locator("#sb-state")).to_have_text(
            "You're chatting with the support bot."
        )
        await other.close()
        await context.close()


async def test_admin_pages_have_no_serious_accessibility_problems(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path)
    await seed(settings, n=12)
    await seed_missed(settings)
    async with live_server(await build_app(settings)) as url, chromium() as browser:
        for scheme in ("light", "dark"):
            context = await browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
            page = await context.new_page()
            await page.goto(f"{url}/admin/login")
            assert await axe(page.main_frame) == [], f"sign-in ({scheme})"
            await page.get_by_label("Admin token").fill(ADMIN_TOKEN)
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_role("heading", name="Where customers get stuck").wait_for()
            problems = {"overview": await axe(page.main_frame)}
            for name, path in (
                ("missed", "/admin/missed"),
                ("conversations", "/admin/conversations"),
                ("outbox", "/admin/outbox"),
            ):
                await page.goto(url + path)
                problems[name] = await axe(page.main_frame)
            await page.goto(url + "/admin/conversations")
            await page.locator("table a[href^='/admin/conversations/']").first.click()
            await page.get_by_role("heading", name="Transcript").wait_for()
            problems["transcript"] = await axe(page.main_frame)
            assert {k: v for k, v in problems.items() if v} == {}, scheme
            await context.close()
