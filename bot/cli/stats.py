"""`supportbot stats [--flow ID] [--since DATE] [--json]`: the support lead's figures, from the database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from bot.analytics.missed import TOP_MISSED, WHY_LABELS
from bot.analytics.periods import parse_when, show
from bot.settings import Settings


@click.command()
@click.option("--flow", "flow_id", default=None, metavar="ID", help="Only conversations of this flow.")
@click.option("--since", default=None, metavar="DATE", help="Only conversations started since (UTC), or 7d.")
@click.option("--json", "as_json", is_flag=True, help="Print every figure as one JSON object.")
@click.option("--no-sweep", is_flag=True, help="Don't close idle conversations as abandoned before counting.")
@click.option(
    "--top-missed",
    type=click.IntRange(1, 1000),
    default=TOP_MISSED,
    show_default=True,
    metavar="N",
    help="How many missed messages to list per question.",
)
def stats(flow_id: str | None, since: str | None, as_json: bool, no_sweep: bool, top_missed: int) -> None:
    """Conversations, containment, escalations, abandonment, funnel, probes, satisfaction, missed messages.

    Missed messages are what customers typed when the bot re-asked a question, when they said
    "No, something else" to its guess, or when it went on unsure: add them as examples to the flow.

    Conversations idle longer than SUPPORTBOT_IDLE_MINUTES are closed as abandoned first, so the
    abandoned figure is current even when no server is running.
    """
    from bot.analytics.abandon import sweep
    from bot.analytics.stats import Filters, compute
    from bot.engine.registry import FlowRegistry
    from bot.storage.driver import open_driver
    from bot.storage.migrate import upgrade_url

    settings = Settings.from_env()
    filters = Filters(flow=flow_id, since=parse_when(since) if since else None)
    registry = FlowRegistry.load_dir(settings.flows_dir) if settings.flows_dir.is_dir() else None

    async def run() -> dict[str, Any]:
        driver = open_driver(settings.database_url)
        try:
            await upgrade_url(settings.database_url, driver)
            if not no_sweep:
                await sweep(driver, settings.idle_minutes)
            return await compute(driver, filters, registry, missed_limit=top_missed)
        finally:
            await driver.close()

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
    lines += ["", "missed messages per question (times, customers, why, most common guess, last seen, text)"]
    lines += _missed_lines(f["missed"]) or ["  No missed messages in this period."]
    return "\n".join(lines)


def _missed_lines(questions: list[dict[str, Any]]) -> list[str]:
    lines = []
    for q in questions:
        lines.append(
            f"  {q['step']} ({q['flow']}): {q['missed']} missed, {q['texts']} different "
            f"text{'' if q['texts'] == 1 else 's'}"
        )
        for m in q["messages"]:
            why = ", ".join(f"{WHY_LABELS.get(w, w)} {n}" for w, n in m["why"].items())
            lines.append(
                f"    {m['count']:>5} {m['conversations']:>5}  {why:<40} {m['guess'] or '-':<20} "
                f"{show(m['last_seen'])}  {_one_line(m['text'])}"
            )
    return lines


def _one_line(text: str) -> str:
    """Customer text made safe for a terminal: one line, control characters (escape sequences) shown
    as escapes instead of being obeyed."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in " ".join(text.split())
    )
