"""`supportbot serve`: the web app (widget, widget API, agent API, health, metrics) under uvicorn."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import math
from collections.abc import Callable

import click

from bot.cli.common import flows_option, flows_path
from bot.settings import Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: $PORT or 8000; 0 picks one).")
@flows_option
def serve(host: str, port: int | None, flows_dir: str | None) -> None:
    """Run the web app: the widget at /widget.js, its API, the agent API, /healthz and /metrics."""
    settings = Settings.from_env()
    if flows_dir:
        settings = dataclasses.replace(settings, flows_dir=flows_path(flows_dir, settings))
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve(settings, host, settings.port if port is None else port))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (uvicorn[standard] brings it): the same loop `uvicorn` itself would pick."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.channels.web.connections import ConnectionLimits, Gate, guarded_protocol, usable_connections
    from bot.channels.web.wiring import build_app
    from bot.redaction import install_log_redaction

    app = await build_app(settings)
    # Everything built so far (modules, compiled flows, the app) lives as long as the process: moved
    # out of the collector's generations, it is not rescanned by every full collection under load.
    gc.freeze()
    limits = ConnectionLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        keepalive_timeout=settings.keepalive_timeout,
        max_connections=usable_connections(settings.max_connections),
        max_per_address=settings.max_connections_per_address,
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # X-Forwarded-For is read by the app, and only from SUPPORTBOT_TRUSTED_PROXIES.
        proxy_headers=False,
        # Deadlines for headers and bodies and caps on connections, per address and overall.
        http=guarded_protocol(Gate(limits, settings.trusted_proxies)),
        timeout_keep_alive=math.ceil(settings.keepalive_timeout),  # uvicorn counts whole seconds
        server_header=False,
        # Open event streams must not hold a restart up for long.
        timeout_graceful_shutdown=5,
        log_level="info",
        # A line per request cost ~30% of a request's CPU (bench/README.md) and repeats what the
        # platform's router (Heroku, nginx) logs already; SUPPORTBOT_ACCESS_LOG=1 turns it on.
        access_log=settings.access_log,
    )
    # uvicorn.Config just replaced the logging handlers: the filter goes on the new ones (the access
    # log's request line, query string included, is customer input).
    install_log_redaction()
    await uvicorn.Server(config).serve()
