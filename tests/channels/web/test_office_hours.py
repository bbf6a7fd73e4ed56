"""Office hours through the web app: the hand-over says when a person answers; /healthz, the widget's
config and the admin overview show the setting."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette

from bot.hours import DAYS, OfficeHours, parse
from tests.support.web import client, start


def closed_now() -> OfficeHours:
    """Hours on one day only, two days from today: closed whenever the test runs."""
    day = DAYS[(datetime.now(UTC) + timedelta(days=2)).weekday()]
    return parse(f"{day.title()} 09:00-17:00", "UTC", "3h")


async def test_a_hand_over_outside_hours_says_when_a_person_answers(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    hours = closed_now()
    async with client(await make_app(office_hours=hours)) as c:
        cid, auth, _ = await start(c)
        r = await c.post(f"/api/conversations/{cid}/messages", json={"choice": "human"}, headers=auth)
        assert r.status_code == 200 and r.json()["status"] == "escalated"
        texts = [m["text"] for m in r.json()["messages"]]
        day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[
            hours.windows[0].day
        ]
        assert any(f"A person will answer from {day} at 09:00 UTC time" in t for t in texts), texts
        # It is part of the transcript (a reload shows it) and of the hand-over packet the team gets.
        stored = (await c.get(f"/api/conversations/{cid}", headers=auth)).json()["messages"]
        assert any("away right now" in m["text"] for m in stored)


async def test_a_hand_over_in_hours_gives_the_reply_time(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    always = parse("Mon-Sun 00:00-00:00", "Europe/Paris", "20m")
    async with client(await make_app(office_hours=always)) as c:
        cid, auth, _ = await start(c)
        r = await c.post(f"/api/conversations/{cid}/messages", json={"choice": "human"}, headers=auth)
        assert any("usually replies within 20 minutes" in m["text"] for m in r.json()["messages"])


async def test_no_hours_no_promise(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with client(await make_app()) as c:
        cid, auth, _ = await start(c)
        r = await c.post(f"/api/conversations/{cid}/messages", json={"choice": "human"}, headers=auth)
        assert not any("support team is" in m["text"] for m in r.json()["messages"])
        health = (await c.get("/healthz")).json()
        assert health["office_hours"] is None
        assert "hours" not in (await c.get("/widget/config.json")).json()


async def test_healthz_config_and_admin_show_the_setting(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    hours = closed_now()
    async with client(await make_app(office_hours=hours, admin_token="admin-token-for-hours")) as c:
        health = (await c.get("/healthz")).json()
        assert health["office_hours"]["hours"] == hours.spec
        assert health["office_hours"]["open_now"] is False
        assert health["office_hours"]["reply_minutes"] == 180
        assert datetime.fromisoformat(health["office_hours"]["next_open"]) > datetime.now(UTC)
        config = (await c.get("/widget/config.json")).json()
        assert config["hours"]["next_open"] == health["office_hours"]["next_open"]
        page = await c.get("/admin/", headers={"Authorization": "Bearer admin-token-for-hours"})
        assert page.status_code == 200
        assert f"{hours.spec} (UTC)" in page.text and "3 hours" in page.text and "closed" in page.text
