"""The admin pages at /admin: sign-in, overview, missed messages, conversations, transcripts, the outbox."""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from bot.analytics.missed import TOP_MISSED, WHY_LABELS, MissedQuestion
from bot.analytics.periods import parse_when, show
from bot.analytics.stats import STATUSES, Filters, compute, missed_messages
from bot.channels.web.admin import queries
from bot.channels.web.admin.diagram import SCALE, UNVISITED, drop_fill, funnel_svg
from bot.channels.web.admin.session import COOKIE, LIFETIME, Session, Signer
from bot.channels.web.context import context
from bot.channels.web.replies import too_many_guesses
from bot.engine.registry import FlowRegistry
from bot.errors import FlowNotFound, InputError, NotFound
from bot.escalation import outbox
from bot.hours import OfficeHours
from bot.storage.driver import Driver

HERE = Path(__file__).parent
PAGE_SIZE = 50
MAX_PAGE = 1_000_000  # 50 million conversations: far beyond any list a person pages through
MOST_MISSED = 100  # the most texts per question the missed-messages page lists (?top=)
Handler = Callable[[Request], Awaitable[Response]]


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = show
    env.filters["pct"] = lambda v: "-" if v is None else f"{v * 100:.1f}%"
    env.filters["drop_fill"] = drop_fill
    env.filters["duration"] = _duration
    env.filters["why"] = lambda w: WHY_LABELS.get(w, w)
    return env


class Admin:
    """Holds what the pages read; each public method is one route's endpoint."""

    def __init__(
        self,
        driver: Driver,
        registry: FlowRegistry,
        admin_token: str | None,
        hours: OfficeHours | None = None,
    ) -> None:
        self.driver = driver
        self.hours = hours
        self.registry = registry
        self.signer = Signer(admin_token) if admin_token else None
        self.env = _templates()

    # -- plumbing --------------------------------------------------------------------------------

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        session = getattr(request.state, "session", None)
        csrf = session.csrf if isinstance(session, Session) else ""
        html = self.env.get_template(name).render(request=request, nav=name, csrf=csrf, **values)
        # same-origin: the browser then names our origin on form posts (no-referrer would send "null").
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin"}
        return HTMLResponse(html, status_code=status, headers=headers)

    def session(self, request: Request) -> Session | None:
        return self.signer.read(request.cookies.get(COOKIE)) if self.signer else None

    def bearer(self, request: Request) -> bool | None:
        """Scripts may send the token itself instead of signing in (no cookie, so no CSRF to fear).

        True for the right token, False for a wrong one (a guess), None when none was sent.
        """
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if not (self.signer and scheme.lower() == "bearer" and value.strip()):
            return None
        return self.signer.token_ok(value.strip())

    async def throttled(self, request: Request) -> Response | None:
        """The 429 to send while this address (or everyone) must wait after wrong tokens."""
        ctx = context(request)
        wait = await ctx.auth.wait(ctx.ip(request))
        if not wait:
            return None
        seconds = str(max(1, math.ceil(wait)))
        if request.method == "POST" and request.url.path.endswith("/login"):
            response = self.render(
                request,
                "login.html",
                status=429,
                error=f"Too many wrong tokens; wait {seconds} s and try again.",
                next="/admin/",
            )
            response.headers["Retry-After"] = seconds
            return response
        return too_many_guesses("admin tokens", wait)

    async def judged(self, request: Request, right: bool) -> None:
        ctx = context(request)
        if right:
            await ctx.auth.succeeded(ctx.ip(request))
        else:
            await ctx.auth.failed(ctx.ip(request))

    def guard(self, handler: Handler, *, form: bool = False) -> Handler:
        """Refuse without a session (or bearer token); POSTs need the session's CSRF token too."""

        async def guarded(request: Request) -> Response:
            if self.signer is None:
                return self.render(request, "off.html", status=404)
            if request.headers.get("authorization"):
                if (refused := await self.throttled(request)) is not None:
                    return refused
                right = self.bearer(request)
                if right is not None:
                    await self.judged(request, right)
                if right:
                    return await handler(request)
            session = self.session(request)
            if session is None:
                if form:
                    return self.render(
                        request, "login.html", status=403, error="Sign in first.", next="/admin/"
                    )
                return self.render(request, "login.html", status=401, next=_safe_next(str(request.url.path)))
            request.state.session = session
            if form:
                data = await request.form()
                sent = str(data.get("csrf", ""))
                if not _same_origin(request) or not hmac.compare_digest(sent, session.csrf):
                    return self.render(
                        request,
                        "error.html",
                        status=403,
                        message="This form has expired; reload the page and try again.",
                    )
                request.state.form = data
            return await handler(request)

        return guarded

    # -- sign in and out -------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if self.signer is None:
            return self.render(request, "off.html", status=404)
        if self.session(request) is not None:
            return RedirectResponse("/admin/", status_code=303)
        return self.render(
            request, "login.html", next=_safe_next(request.query_params.get("next", "/admin/"))
        )

    async def login(self, request: Request) -> Response:
        if self.signer is None:
            return self.render(request, "off.html", status=404)
        if (refused := await self.throttled(request)) is not None:
            return refused  # before the form is read: a right token is not looked at either
        data = await request.form()
        target = _safe_next(str(data.get("next", "/admin/")))
        if not _same_origin(request):
            return self.render(
                request, "login.html", status=401, error="That token is not right.", next=target
            )
        right = self.signer.token_ok(str(data.get("token", "")))
        await self.judged(request, right)
        if not right:
            return self.render(
                request, "login.html", status=401, error="That token is not right.", next=target
            )
        cookie, _session = self.signer.issue()
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(LIFETIME),
            path="/admin",
            httponly=True,
            samesite="strict",
            # Behind a TLS-terminating proxy the request reaches us over plain HTTP: believe its
            # X-Forwarded-Proto when it is one of SUPPORTBOT_TRUSTED_PROXIES.
            secure=context(request).scheme(request) == "https",
        )
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(
            COOKIE,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=context(request).scheme(request) == "https",
        )
        return response

    # -- pages -----------------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        q = request.query_params
        flow_id = q.get("flow") or self.registry.default_flow_id
        try:
            since = parse_when(q["since"]) if q.get("since") else None
        except InputError as exc:
            return self.render(request, "error.html", status=400, message=str(exc))
        figures = await compute(self.driver, Filters(flow=flow_id, since=since), self.registry)
        try:
            svg = funnel_svg(self.registry.get(flow_id), figures["funnel"])
        except FlowNotFound:
            svg = None
        return self.render(
            request,
            "overview.html",
            f=figures,
            svg=svg,
            flow=flow_id,
            flows=self.registry.ids(),
            since=q.get("since", ""),
            scale=SCALE,
            unvisited=UNVISITED,
            hours=self.hours.to_json(datetime.now(UTC)) if self.hours is not None else None,
            hours_text=self.hours.describe() if self.hours is not None else None,
            reply_text=self.hours.reply_text() if self.hours is not None else None,
        )

    async def stats_json(self, request: Request) -> Response:
        q = request.query_params
        try:
            since = parse_when(q["since"]) if q.get("since") else None
        except InputError as exc:
            return JSONResponse({"error": "bad_request", "message": str(exc)}, status_code=400)
        figures = await compute(self.driver, Filters(flow=q.get("flow") or None, since=since), self.registry)
        return JSONResponse(figures, headers={"Cache-Control": "no-store"})

    async def missed(self, request: Request) -> Response:
        """Per question, what customers wrote that the bot did not understand: candidates for examples."""
        q = request.query_params
        try:
            since = parse_when(q["since"]) if q.get("since") else None
            top = _whole(q.get("top"), "top", TOP_MISSED, MOST_MISSED)
        except (InputError, ValueError) as exc:
            return self.render(request, "error.html", status=400, message=str(exc))
        flow_id = q.get("flow") or None
        questions = await missed_messages(self.driver, Filters(flow=flow_id, since=since), self.registry, top)
        return self.render(
            request,
            "missed.html",
            questions=[(question, self._question_info(question)) for question in questions],
            flow=flow_id or "",
            flows=self.registry.ids(),
            since=q.get("since", ""),
            top=top,
        )

    def _question_info(self, question: MissedQuestion) -> dict[str, Any]:
        """What the flow says about a question: its wording, its choices' labels, the file to edit."""
        try:
            flow = self.registry.get(question.flow)
        except FlowNotFound:
            return {"ask": None, "labels": {}, "file": None}
        spec = flow.spec.steps.get(question.step)
        return {
            "ask": spec.ask if spec else None,
            "labels": {c.key: c.label for c in (spec.choices or [])} if spec else {},
            "file": Path(flow.file).name,
        }

    async def conversations(self, request: Request) -> Response:
        q = request.query_params
        try:
            since = parse_when(q["since"]) if q.get("since") else None
            until = _end_of(q["until"]) if q.get("until") else None
            number = _whole(q.get("page"), "page", 1, MAX_PAGE)
        except (InputError, ValueError) as exc:
            return self.render(request, "error.html", status=400, message=str(exc))
        filters = Filters(
            flow=q.get("flow") or None,
            since=since,
            until=until,
            status=q.get("status") or None,
            domain=q.get("domain") or None,
        )
        total, rows = await queries.page(self.driver, filters, PAGE_SIZE, (number - 1) * PAGE_SIZE)
        kept = {k: v for k, v in q.items() if k != "page" and v}
        return self.render(
            request,
            "conversations.html",
            rows=rows,
            total=total,
            page=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            query=kept,
            link=lambda n: "?" + urlencode({**kept, "page": n}),
            statuses=STATUSES,
            flows=self.registry.ids(),
        )

    async def conversation(self, request: Request) -> Response:
        try:
            data = await queries.conversation(self.driver, request.path_params["conversation_id"])
        except NotFound:
            return self.render(request, "error.html", status=404, message="There is no such conversation.")
        return self.render(request, "conversation.html", **data)

    async def outbox_page(self, request: Request) -> Response:
        status = request.query_params.get("status") or None
        rows = await outbox.listing(self.driver, status=status, limit=200)
        dead = await outbox.listing(self.driver, status="dead", limit=1000)
        return self.render(
            request,
            "outbox.html",
            rows=rows,
            selected=status,
            dead=len(dead),
            retried=request.query_params.get("retried"),
        )

    async def outbox_retry(self, request: Request) -> Response:
        data = request.state.form if hasattr(request.state, "form") else await request.form()
        raw = str(data.get("id", "")).strip()
        ids = [int(raw)] if raw.isdigit() else None  # no id: every dead letter
        count = await outbox.retry(self.driver, ids)
        return RedirectResponse(f"/admin/outbox?retried={count}", status_code=303)

    async def stylesheet(self, request: Request) -> Response:
        return FileResponse(HERE / "static" / "admin.css", headers={"Cache-Control": "public, max-age=300"})


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _safe_next(target: str) -> str:
    """Only paths under /admin: a sign-in link must not send the lead to another site."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin/") or "//" in parts.path:
        return "/admin/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _same_origin(request: Request) -> bool:
    """A browser names the page a form came from; one from another site is refused (SameSite helps too)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":  # no evidence either way: the CSRF token and SameSite decide
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _whole(value: str | None, name: str, default: int, most: int) -> int:
    """A query parameter that must be a whole number from 1 to `most` (InputError saying so)."""
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(most)) and 1 <= int(value) <= most):
        raise InputError(f"{name}={value[:20]!r} must be a whole number from 1 to {most}.")
    return int(value)


def _end_of(value: str) -> float:
    """An `until` date includes that whole day."""
    moment = parse_when(value)
    return moment + 86400 if len(value.strip()) == 10 else moment
