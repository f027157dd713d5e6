"""The model drawn as a graph (Graphviz DOT or Mermaid text): states as nodes with their long-run
share, the initial state pointed at, final states doubled; one edge per transition and source
state, labelled with its name, chance per tick (or `every`), condition and emitted topics, drawn
thicker the more users take it (the analysed flow)."""

from __future__ import annotations

import math

import attrs

from connector.analysis.report import Analysis, TransitionFigures
from connector.model.spec import SELF

FORMATS = ("mermaid", "dot")
_LOOP_SIDES = ("n", "s", "e", "w")


@attrs.frozen
class Edge:
    source: int
    target: int
    lines: tuple[str, ...]
    width: float  # 1 (rare) .. 6 (the busiest edge)


def edges(analysis: Analysis) -> list[Edge]:
    states = [s.name for s in analysis.states]
    share = {s.name: s.share for s in analysis.states}
    flows = []
    for t in analysis.transitions:
        total = sum(share[s] for s in t.sources) or 1.0
        for source in t.sources:
            weight = share[source] / total if len(t.sources) > 1 else 1.0
            flows.append((t, source, t.per_user_day * weight))
    top = max((f for _, _, f in flows), default=0.0) or 1.0
    out = []
    for t, source, flow in flows:
        target = source if t.target == SELF else t.target
        out.append(Edge(states.index(source), states.index(target), _label(t),
                        1.0 + 5.0 * math.sqrt(max(flow, 0.0) / top)))
    return out


def _label(t: TransitionFigures) -> tuple[str, ...]:
    if t.every_ms is not None:
        chance = f"every {_duration(t.every_ms)}"
    else:
        chance = f"{_percent(t.chance_avg)} /tick"
    if t.chance_peak > t.chance_avg * (1 + 1e-9):
        chance += f" (peak {_percent(t.chance_peak)})"
    lines = [t.name, chance]
    if t.condition.condition is not None:
        lines.append(f"if {t.condition.condition}")
    lines.append("emits " + ", ".join(t.emits) if t.emits else "silent")
    return tuple(lines)


def _percent(p: float) -> str:
    return f"{p * 100:.3g} %"


def _duration(ms: float) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{int(ms // size)}{unit}"
    return f"{ms:g}ms"


def _node_label(analysis: Analysis, i: int) -> list[str]:
    s = analysis.states[i]
    return [s.name, "final" if s.final else f"{s.share * 100:.3g} % of users"]


def to_dot(analysis: Analysis) -> str:
    out = [f"digraph {_dot_quote(analysis.model)} {{", "  rankdir=LR;", "  nodesep=0.6;",
           '  node [shape=box, style="rounded", fontname="Helvetica"];',
           '  edge [fontname="Helvetica", fontsize=10];',
           '  __start [shape=point, width=0.15, label=""];']
    for i, s in enumerate(analysis.states):
        extra = ", peripheries=2" if s.final else ""
        out.append(f"  s{i} [label={_dot_quote(chr(10).join(_node_label(analysis, i)))}{extra}];")
    for i, s in enumerate(analysis.states):
        if s.initial:
            out.append(f"  __start -> s{i};")
    loops: dict[int, int] = {}
    for e in edges(analysis):
        ports = ""
        if e.source == e.target:  # alternate sides so that the labels of loops do not overlap
            side = _LOOP_SIDES[loops.get(e.source, 0) % len(_LOOP_SIDES)]
            loops[e.source] = loops.get(e.source, 0) + 1
            ports = f", tailport={side}, headport={side}"
        out.append(f"  s{e.source} -> s{e.target} [label={_dot_quote(chr(10).join(e.lines))}, "
                   f"penwidth={e.width:.2f}{ports}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_mermaid(analysis: Analysis) -> str:
    """A Mermaid flowchart (renders on GitHub and in most Markdown viewers)."""
    out = ["flowchart LR", '  start(( )):::start']
    for i, s in enumerate(analysis.states):
        text = _mermaid_text(_node_label(analysis, i))
        out.append(f'  s{i}((("{text}"))):::final' if s.final else f'  s{i}(["{text}"])')
    links = 0
    widths = []
    for i, s in enumerate(analysis.states):
        if s.initial:
            out.append(f"  start --> s{i}")
            widths.append(1.0)
            links += 1
    for e in edges(analysis):
        out.append(f'  s{e.source} -->|"{_mermaid_text(e.lines)}"| s{e.target}')
        widths.append(e.width)
        links += 1
    out += [f"  linkStyle {i} stroke-width:{w:.1f}px" for i, w in enumerate(widths)]
    out += ["  classDef start fill:#000,stroke:#000", "  classDef final stroke-width:3px"]
    return "\n".join(out) + "\n"


def _mermaid_text(lines: list[str] | tuple[str, ...]) -> str:
    """Lines of a label joined with <br/>, each with Mermaid's entity codes for the characters
    that would end the label or read as markup."""
    codes = {"#": "#35;", "&": "#amp;", '"': "#quot;", "|": "#124;", "<": "#lt;", ">": "#gt;",
             "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;", "(": "#40;", ")": "#41;",
             "`": "#96;", "\n": " "}
    return "<br/>".join("".join(codes.get(c, c) for c in line) for line in lines)


__all__ = ["FORMATS", "Edge", "edges", "to_dot", "to_mermaid"]
