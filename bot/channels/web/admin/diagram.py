"""The flow drawn as SVG with each step coloured by drop-off and labelled with its counts; no JavaScript."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from bot.engine.compile import CompiledFlow
from bot.flows.diagram import KIND_COLOURS, arrows

WIDTH, HEIGHT, GAP_X, GAP_Y, MARGIN = 186, 50, 18, 56, 20
PER_ROW = 6
# Drop-off share -> fill; the lead's eye goes to the red steps first.
SCALE = ((0.0, "#dcfce7"), (0.05, "#fef9c3"), (0.15, "#fed7aa"), (0.3, "#fecaca"))
UNVISITED = "#f3f4f6"


@dataclass(frozen=True)
class _Node:
    step: str
    kind: str
    x: float
    y: float


def drop_fill(rate: float | None) -> str:
    if rate is None:
        return UNVISITED
    fill = SCALE[0][1]
    for threshold, colour in SCALE:
        if rate >= threshold:
            fill = colour
    return fill


def _distance(start: str, targets: dict[str, list[str]]) -> dict[str, int]:
    depth = {start: 0}
    queue = deque([start])
    while queue:
        step = queue.popleft()
        for target in targets[step]:
            if target not in depth:
                depth[target] = depth[step] + 1
                queue.append(target)
    return depth


def layout(flow: CompiledFlow) -> dict[str, _Node]:
    """Rows by distance from the start, wrapped at PER_ROW steps so a laptop screen shows the width;
    within a row, steps are ordered under their parents to keep arrows short."""
    targets: dict[str, list[str]] = defaultdict(list)
    parents: dict[str, list[str]] = defaultdict(list)
    for a in arrows(flow):
        targets[a.source].append(a.target)
        parents[a.target].append(a.source)
    depth = _distance(flow.start, targets)
    bottom = max(depth.values(), default=0) + 1
    for step in flow.steps:  # unreachable steps (validation forbids them, but old data may have them)
        depth.setdefault(step, bottom)
    layers: dict[int, list[str]] = defaultdict(list)
    for step in flow.steps:
        layers[depth[step]].append(step)
    column: dict[str, float] = {}
    index = {step: i for i, step in enumerate(flow.steps)}
    nodes: dict[str, _Node] = {}
    row = 0
    for d in sorted(layers):
        layer = layers[d]

        def centre(step: str, d: int = d) -> float:
            above = [column[p] for p in parents[step] if p in column and depth[p] < d]
            return sum(above) / len(above) if above else index[step] / len(index) * PER_ROW

        layer.sort(key=lambda step: (centre(step), index[step]))
        for start in range(0, len(layer), PER_ROW):
            chunk = layer[start : start + PER_ROW]
            offset = (PER_ROW - len(chunk)) / 2  # centre a short row
            for i, step in enumerate(chunk):
                column[step] = offset + i
                nodes[step] = _Node(
                    step,
                    flow.steps[step].kind,
                    MARGIN + (offset + i) * (WIDTH + GAP_X),
                    MARGIN + row * (HEIGHT + GAP_Y),
                )
            row += 1
    return nodes


def funnel_svg(flow: CompiledFlow, funnel: list[dict[str, Any]]) -> Markup:
    """An SVG of `flow`: fill = drop-off share, text = entered / dropped / escalated, edges = how many went on."""
    counts = {row["step"]: row for row in funnel if row["flow"] == flow.id}
    nodes = layout(flow)
    width = max(n.x for n in nodes.values()) + WIDTH + MARGIN
    height = max(n.y for n in nodes.values()) + HEIGHT + MARGIN
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="funnel" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" '
        f'aria-label="{escape(flow.title)}: steps coloured by drop-off">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/></marker></defs>',
    ]
    seen: set[tuple[str, str]] = set()
    for a in arrows(flow):
        if (a.source, a.target) in seen or a.source not in nodes or a.target not in nodes:
            continue
        seen.add((a.source, a.target))
        went = int(counts.get(a.source, {}).get("next", {}).get(a.target, 0))
        out.append(_edge(nodes[a.source], nodes[a.target], went))
    for step, node in nodes.items():
        out.append(_node(node, counts.get(step)))
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every piece of text above went through escape()


def _edge(src: _Node, dst: _Node, went: int) -> str:
    x1, y1 = src.x + WIDTH / 2, src.y + HEIGHT
    x2, y2 = dst.x + WIDTH / 2, dst.y
    if dst.y <= src.y:  # a loop back up: leave from the side so it does not cross the node
        x1, y1 = src.x + WIDTH, src.y + HEIGHT / 2
        x2, y2 = dst.x + WIDTH, dst.y + HEIGHT / 2
        path = f"M{x1:.0f},{y1:.0f} C{x1 + 60:.0f},{y1:.0f} {x2 + 60:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
    else:
        mid = (y1 + y2) / 2
        path = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}"
    stroke = "#374151" if went else "#d1d5db"
    wide = 1.0 + min(went, 200) ** 0.5 / 3
    parts = [
        f'<path d="{path}" fill="none" stroke="{stroke}" stroke-width="{wide:.1f}" marker-end="url(#arrow)"/>'
    ]
    if went:
        lx, ly = (x1 + x2) / 2, (y1 + y2) / 2
        parts.append(
            f'<text x="{lx:.0f}" y="{ly:.0f}" class="edge-count" text-anchor="middle" font-size="11" '
            f'fill="#111827" stroke="#ffffff" stroke-width="3" paint-order="stroke">{went}</text>'
        )
    return "".join(parts)


def _node(node: _Node, row: dict[str, Any] | None) -> str:
    _fill, stroke, text = KIND_COLOURS.get(node.kind, ("#fff", "#000", "#000"))
    entered = int(row["conversations"]) if row else 0
    fill = drop_fill(row["drop_rate"] if row and entered else None)
    dropped = int(row["dropped"]) if row else 0
    escalated = int(row["escalated"]) if row else 0
    ended = int(row["ended"]) if row else 0
    name = node.step if len(node.step) <= 26 else node.step[:25] + "…"
    detail = f"{entered} in · {dropped} dropped"
    if escalated:
        detail += f" · {escalated} esc"
    if ended:
        detail += f" · {ended} end"
    rate = row["drop_rate"] if row else None
    tip = f"{node.step} ({node.kind}): {entered} conversations entered, {dropped} dropped here"
    tip += f" ({rate * 100:.1f}%)" if rate is not None else ""
    tip += f", {escalated} escalated here, {ended} ended here"
    cx = node.x + WIDTH / 2
    return (
        f'<g class="step" data-step="{escape(node.step)}"><title>{escape(tip)}</title>'
        f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{WIDTH}" height="{HEIGHT}" rx="8" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
        f'<text x="{cx:.0f}" y="{node.y + 20:.0f}" text-anchor="middle" font-size="12" font-weight="600" '
        f'fill="{text}">{escape(name)}</text>'
        f'<text x="{cx:.0f}" y="{node.y + 38:.0f}" text-anchor="middle" font-size="11" '
        f'fill="#111827">{escape(detail)}</text></g>'
    )
