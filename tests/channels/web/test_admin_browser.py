"""The admin pages in headless Chromium: sign in, funnel, missed messages, a transcript; screenshots for docs/."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.support.admin import ADMIN_TOKEN, SCRIPT, admin_settings, seed, seed_missed
from tests.support.web import build_app, chromium_path, live_server

CHROMIUM = chromium_path()
DOCS = Path(__file__).resolve().parents[3] / "docs"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium (apt install chromium)"),
]


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


async def test_sign_in_see_the_funnel_open_a_transcript(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path)
    hostile = await seed(settings, n=80)
    await seed_missed(settings)
    DOCS.mkdir(exist_ok=True)
    fired: list[str] = []
    async with live_server(await build_app(settings)) as url, chromium() as browser:
        page = await browser.new_page(viewport={"width": 1360, "height": 900})  # type: ignore[attr-defined]
        page.on("dialog", lambda d: fired.append(d.message))
        page.on("pageerror", lambda e: fired.append(str(e)))

        refused = await page.goto(f"{url}/admin")
        assert refused is not None and refused.status == 401
        await page.get_by_label("Admin token").fill("not the token")
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_text("That token is not right.").wait_for()
        await page.get_by_label("Admin token").fill(ADMIN_TOKEN)
        await page.get_by_role("button", name="Sign in").click()

        await page.get_by_role("heading", name="Where customers get stuck").wait_for()
        diagram = page.locator("#funnel svg.funnel")
        await diagram.wait_for()
        start = diagram.locator('g.step[data-step="ask_symptom"]')
        assert "81 in" in (await start.text_content() or "")
        assert await page.locator("table.funnel-table tbody tr").count() > 10
        await page.screenshot(path=str(DOCS / "admin-overview.png"), full_page=True)

        await page.get_by_role("link", name="Missed messages", exact=True).click()
        await page.get_by_role("heading", name="Missed messages").wait_for()
        said = await page.locator("td.said").all_text_contents()
        assert SCRIPT in said and "outlook ERROR  0x800ccc0e" in said  # text, as the customer wrote it
        await page.screenshot(path=str(DOCS / "admin-missed.png"), full_page=True)

        await page.get_by_role("link", name="Conversations").click()
        await page.get_by_label("Status").select_option("escalated")
        await page.get_by_role("button", name="Filter").click()
        await page.wait_for_url("**/admin/conversations?status=escalated*")
        await page.screenshot(path=str(DOCS / "admin-conversations.png"), full_page=True)
        await page.get_by_role("link", name=hostile).click()
        await page.get_by_role("heading", name="Transcript").wait_for()
        user_lines = page.locator(".msg.user .text")
        assert "<script>alert('admin')</script>" in (await user_lines.all_text_contents())
        assert await page.locator(".msg.probe").count() >= 1
        await page.screenshot(path=str(DOCS / "admin-transcript.png"), full_page=True)

        await page.get_by_role("link", name="Outbox").click()
        await page.get_by_role("button", name="Retry", exact=True).first.click()
        await page.get_by_text("1 delivery(ies) put back in the queue.").wait_for()
        await page.screenshot(path=str(DOCS / "admin-outbox.png"), full_page=True)

        phone = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
        await phone.context.add_cookies(await page.context.cookies())
        await phone.goto(f"{url}/admin/")
        await phone.get_by_role("heading", name="Where customers get stuck").wait_for()
        # Nothing wider than the screen except the scrollable diagram and tables.
        overflow = await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        await phone.screenshot(path=str(DOCS / "admin-phone.png"))
    assert fired == []
