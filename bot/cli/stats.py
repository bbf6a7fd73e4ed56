"""`supportbot stats [--flow ID] [--since DATE] [--json]`: the support lead's figures, from the database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from bot.analytics.abandon import sweep
from bot.analytics.periods import parse_when
from bot.analytics.stats import Filters, compute
from bot.flows.registry import FlowRegistry
from bot.settings import Settings
from bot.storage.database import open_engine, upgrade


@click.command()
@click.option("--flow", "flow_id", default=None, metavar="ID", help="Only conversations of this flow.")
@click.option("--since", default=None, metavar="DATE", help="Only conversations started since (UTC), or 7d.")
@click.option("--json", "as_json", is_flag=True, help="Print every figure as one JSON object.")
@click.option("--no-sweep", is_flag=True, help="Don't close idle conversations as abandoned before counting.")
def stats(flow_id: str | None, since: str | None, as_json: bool, no_sweep: bool) -> None:
    """Conversations, containment, escalations, abandonment, per-step funnel, probes, satisfaction.

    Conversations idle longer than SUPPORTBOT_IDLE_MINUTES are closed as abandoned first, so the
    abandoned figure is current even when no server is running.
    """
    settings = Settings.from_env()
    filters = Filters(flow=flow_id, since=parse_when(since) if since else None)
    registry = FlowRegistry.load_dir(settings.flows_dir) if settings.flows_dir.is_dir() else None

    async def run() -> dict[str, Any]:
        engine = open_engine(settings.database_url)
        try:
            await upgrade(engine)
            if not no_sweep:
                await sweep(engine, settings.idle_minutes)
            return await compute(engine, filters, registry)
        finally:
            await engine.dispose()

    figures = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(figures))


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


def render_text(f: dict[str, Any]) -> str:
    lines = [
        f"conversations          {f['conversations']}",
        f"resolved by the bot    {f['contained']}  ({_pct(f['containment'])} containment)",
        f"ended unresolved       {f['unresolved']}",
        f"escalated              {f['escalated']}  ({_pct(f['escalation_rate'])})",
        f"abandoned              {f['abandoned']}  ({f['abandonments']} times idle, {f['resumed']} came back)",
        f"still active           {f['status']['active']}   with an agent {f['status']['with_agent']}",
        f"median turns           {f['median_turns']}",
        f"median to resolution   {f['median_turns_to_resolution']} turns, "
        f"{f['median_seconds_to_resolution']} s",
        "",
        "funnel (entered / conversations / dropped / escalated / ended -> next steps)",
    ]
    for s in f["funnel"]:
        if not s["entered"]:
            continue
        nxt = ", ".join(f"{k} {v}" for k, v in s["next"].items())
        lines.append(
            f"  {s['step']:<28} {s['entered']:>5} {s['conversations']:>5} {s['dropped']:>4} "
            f"{s['escalated']:>4} {s['ended']:>4}  -> {nxt}"
        )
    lines += ["", "top escalation reasons"]
    lines += [f"  {r['count']:>5}  {r['reason']}" for r in f["escalation_reasons"]] or ["  none"]
    lines += ["", "probe findings (runs, statuses, share of domains with a problem)"]
    for probe_id, p in f["probes"].items():
        statuses = ", ".join(f"{k} {v}" for k, v in p["status"].items())
        lines.append(f"  {probe_id:<16} {p['runs']:>5}  {statuses}  problem {_pct(p['problem_share'])}")
    lines += ["", "satisfaction per end step (up / down / comments)"]
    for s in f["satisfaction"]:
        lines.append(f"  {s['step']:<28} {s['up']:>4} {s['down']:>4} {s['comments']:>4}  {_pct(s['score'])}")
    return "\n".join(lines)
