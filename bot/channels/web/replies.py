"""JSON error and success responses with one shape: {"error": code, "message": text}."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.errors import Conflict, FlowNotFound, InputError, KeyReused, NotFound, StorageError

log = logging.getLogger("bot.channels.web")


class JSON(JSONResponse):
    """Starlette's JSONResponse, rendered by orjson (the same compact UTF-8 JSON, several times faster)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal",
    503: "unavailable",
}


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSON(
        {"error": _HTTP_CODES.get(status, "error"), "message": message},
        status_code=status,
        headers=dict(headers or {}),
    )


def too_many_guesses(what: str, wait: float) -> JSONResponse:
    seconds = str(max(1, math.ceil(wait)))
    return error(
        429,
        f"Too many wrong {what} from your address (or from everyone lately); wait {seconds} s and try again.",
        {"Retry-After": seconds},
    )


def not_found() -> JSONResponse:
    # One answer for "no such conversation" and "wrong token", so ids can't be probed.
    return error(404, "No conversation with that id and token.")


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error(404, f"Nothing at {request.url.path}; see /openapi.json for the API.")
    if exc.status_code == 405:
        return error(405, f"{request.method} is not allowed on {request.url.path}.", exc.headers)
    return error(exc.status_code, str(exc.detail), exc.headers)


async def on_bot_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, KeyReused):
        return error(422, str(exc))
    if isinstance(exc, InputError):
        return error(400, str(exc))
    if isinstance(exc, FlowNotFound):
        return error(404, str(exc))
    if isinstance(exc, NotFound):
        return not_found()
    if isinstance(exc, Conflict):
        return error(409, "Another message for this conversation was being handled; send it again.")
    if isinstance(exc, StorageError):
        log.error("storage error on %s %s: %s", request.method, request.url.path, exc)
        return error(503, "The service is temporarily unavailable; please try again shortly.")
    log.error("unhandled %s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    return error(500, "Something went wrong on our side; please try again.")


async def on_unexpected(request: Request, exc: Exception) -> Response:
    if _database_down(exc):
        # The database restarting or unreachable is an outage, not a bug: 503, so clients retry.
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return error(503, "The service is temporarily unavailable; please try again shortly.")
    # Logged with the traceback for operators; the client only learns that it failed.
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error(500, "Something went wrong on our side; please try again.")


def database_errors() -> tuple[type[BaseException], ...]:
    """Errors the app answers itself (no re-raise into uvicorn, which would drop the keep-alive
    connection after the 503 and break the client's next request on it)."""
    import sqlite3

    import asyncpg

    return (sqlite3.Error, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


def _database_down(exc: BaseException) -> bool:
    """A lost or refused database connection (asyncpg's own errors, or the socket's)."""
    return isinstance(exc, OSError) or _asyncpg_down(exc)


def _asyncpg_down(exc: BaseException | None) -> bool:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    down = (asyncpg.CannotConnectNowError, asyncpg.ConnectionDoesNotExistError, asyncpg.AdminShutdownError)
    return isinstance(exc, (*down, asyncpg.InterfaceError)) or type(exc).__name__ == "InternalClientError"


def json_ok(data: Any, status: int = 200) -> JSONResponse:
    return JSON(data, status_code=status, headers={"Cache-Control": "no-store"})
