"""The widget's static files: hashed URLs cached for a year, stable entry URLs revalidated, gzip, ETags."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette

from bot.channels.web.assets import Assets
from tests.support.web import client

GZIP = {"Accept-Encoding": "gzip, br"}


async def test_pages_point_at_hashed_files_cached_for_a_year(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    async with client(await make_app()) as c:
        panel = await c.get("/widget/panel.html")
        assert panel.headers["cache-control"] == "no-cache"
        refs = re.findall(r'(?:href|src)="(/widget/[^"]+)"', panel.text)
        assert {re.sub(r"\.[0-9a-f]{12}\.", ".", r) for r in refs} == {
            "/widget/panel.css",
            "/widget/strings.js",
            "/widget/panel.js",
        }
        for ref in refs:
            r = await c.get(ref, headers=GZIP)
            assert r.status_code == 200, ref
            assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
            plain = await c.get(
                ref.replace(ref.split(".")[-2] + ".", ""), headers={"Accept-Encoding": "identity"}
            )
            assert "content-encoding" not in plain.headers
            assert r.content == plain.content  # httpx undid the gzip: the same file
            assert int(r.headers["content-length"]) < len(plain.content) / 2

        # The embed tag's URL stays the same and short-cached, and loads the hashed stylesheet.
        loader = await c.get("/widget.js", headers=GZIP)
        assert loader.headers["cache-control"] == "public, max-age=300"
        assert loader.headers["content-encoding"] == "gzip"
        assert re.search(r'"/widget/widget\.[0-9a-f]{12}\.css"', loader.text)
        assert '"/widget/widget.css"' not in loader.text

        demo = await c.get("/")
        assert re.search(r'href="/widget/demo\.[0-9a-f]{12}\.css"', demo.text)
        assert "text/html" in demo.headers["content-type"]


async def test_etag_answers_304_and_unknown_files_404(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with client(await make_app()) as c:
        first = await c.get("/widget/panel.html")
        again = await c.get("/widget/panel.html", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        changed = await c.get("/widget/panel.html", headers={"If-None-Match": '"something-else"'})
        assert changed.status_code == 200
        head = await c.head("/widget.js", headers=GZIP)
        assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
        assert (await c.get("/widget/nope.js")).status_code == 404
        assert (await c.get("/widget/panel.000000000000.css")).status_code == 404
        assert (await c.get("/widget/../settings.py")).status_code == 404


def test_a_changed_file_gets_a_new_address_and_its_page_follows(tmp_path: Path) -> None:
    (tmp_path / "panel.css").write_text("body { color: black; }\n")
    (tmp_path / "panel.html").write_text('<link rel="stylesheet" href="/widget/panel.css">\n')
    before = Assets(tmp_path)
    (tmp_path / "panel.css").write_text("body { color: navy; }\n")
    after = Assets(tmp_path)
    assert before.url("panel.css") != after.url("panel.css")
    assert after.url("panel.css").encode() in after.files["panel.html"].body
    assert before.url("panel.css").encode() not in after.files["panel.html"].body
    # Tiny files are not compressed (gzip would make them bigger).
    assert after.files["panel.css"].gzipped is None
