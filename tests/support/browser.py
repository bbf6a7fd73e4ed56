"""Two sites in Chromium: a shop's page on one site embedding the bot from another, storage blocked."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.fakes.smtp_servers import mail_receiver
from tests.support.web import chromium_path, live_server, reserve

CHROMIUM = chromium_path()
AXE = Path(__file__).resolve().parents[1] / "channels" / "web" / "fixtures" / "axe-core" / "axe.min.js"
DOCS = Path(__file__).resolve().parents[2] / "docs"
# The two sizes the README's screenshots are taken at.
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}
# Two registrable domains make the embed cross-site (ports alone do not): Chromium then blocks the
# frame's storage, as it does in a fresh profile and in every private window.
SHOP, BOT = "shop.test", "bot.test"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    f"--host-resolver-rules=MAP {SHOP} 127.0.0.1, MAP {BOT} 127.0.0.1",
]

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme hosting help</title></head>
<body><main><a href="#top">Acme help centre</a><h1>Can't send email?</h1>
<p>Our assistant can check your settings.</p></main>
<script src="{bot}/widget.js" data-flow="cant-send-email" data-title="Email help" async></script>
</body></html>"""


@dataclass
class Sites:
    bot_url: str
    bot_direct: str  # the same server for Python clients, which do not know the .test names
    shop_url: str
    app: Starlette
    inbox: list[EmailMessage]


@contextlib.asynccontextmanager
async def cross_site(make_app: Callable[..., Awaitable[Starlette]], **changes: Any) -> AsyncIterator[Sites]:
    """The shop on http://shop.test:P, the bot on http://bot.test:Q with e-mail to a loopback SMTP."""
    shop_sock, bot_sock = reserve(), reserve()
    shop_url = f"http://{SHOP}:{shop_sock.getsockname()[1]}"
    bot_url = f"http://{BOT}:{bot_sock.getsockname()[1]}"

    async def page(request: Request) -> HTMLResponse:
        # ?lang=de: the same shop in another language (the widget follows the page's lang).
        lang = request.query_params.get("lang", "en")
        lang = lang if lang.isalpha() and len(lang) <= 3 else "en"
        return HTMLResponse(SHOP_PAGE.format(bot=bot_url).replace('lang="en"', f'lang="{lang}"'))

    async with mail_receiver() as (smtp_url, inbox):
        settings: dict[str, Any] = {
            "widget_origins": (shop_url,),
            "smtp_url": smtp_url,
            "public_url": bot_url,
            "mail_from": "help@bot.test",
            **changes,
        }
        app = await make_app(**settings)
        async with live_server(Starlette(routes=[Route("/", page)]), shop_sock), live_server(app, bot_sock):
            direct = f"http://127.0.0.1:{bot_sock.getsockname()[1]}"
            yield Sites(bot_url, direct, shop_url, app, inbox)


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def links(message: EmailMessage) -> list[str]:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return re.findall(r"https?://\S+", str(body.get_content()))


async def axe(frame: Any) -> list[str]:
    """Serious and critical axe-core violations in a page or frame, as 'rule: target' lines."""
    # Evaluated through the DevTools protocol: the pages' CSP (no inline script) stays on.
    await frame.evaluate(AXE.read_text())
    result = await frame.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    return list(result)


async def shoot(page: Any, name: str) -> None:
    """Write docs/<name>.png; called only after the test has asserted what the picture shows."""
    await page.screenshot(path=str(DOCS / f"{name}.png"))
