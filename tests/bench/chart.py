"""results.svg: the summary's CPU, rate and memory columns as bars, the
rows grouped by design with the floor first."""

import html

from .accounting import QUIET
from .rows import DESIGNS, KINDS
from .stats import METRICS, SATURATED
from .tables import number


COLOURS = {"floor": "#555555", "stage": "#2f6db5", "exercise": "#3a9a5b",
           "dir": "#d08a1f", "reference": "#a8a8a8"}
LEGEND = {"floor": "design floor", "stage": "stage", "exercise": "exercise",
          "dir": "DIR", "reference": "Redis, Python"}
PANELS = [("b-cpu", "(b) 50 connections: server CPU µs per request"),
          ("e-cpu", "(e) a connection per request: server CPU µs per connection"),
          ("b-rate", "(b) 50 connections: thousand requests/s"),
          ("e-rate", "(e) a connection per request: thousand connections/s"),
          ("f-cpu", "(f) 50 busy, 950 idle: server CPU µs per request"),
          ("d-pss", "(d) 1000 connections: memory, PSS MiB")]
# The chart's sizes, in pixels: a bar's height and the gap below it, a
# design's heading, the names' column, the longest bar, a panel's width.
BAR, GAP, HEAD, LABEL_W, BAR_W, PANEL_W = 13, 3, 16, 130, 240, 470


def svg_chart(results, subtitle):
    """Bars for the medians, a line across each for the min–max of the runs,
    the rows grouped by design with the floor first."""
    rows = [r for r in results.rows if not r.missing]
    designs = [d for d in DESIGNS if any(r.design == d for r in rows)]
    panel_h = 26 + len(rows) * (BAR + GAP) + len(designs) * HEAD + 12
    width, top = 2 * PANEL_W + 20, 52
    height = top + (len(PANELS) + 1) // 2 * panel_h + 44
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="20" font-size="15" font-weight="bold">'
           'make bench: each design against its floor</text>',
           f'<text x="10" y="38" fill="#555">{html.escape(subtitle)}</text>']
    kinds = [k for k in KINDS if any(r.kind == k for r in rows)]
    x = width - 10 - 105 * len(kinds)
    for kind in kinds:
        out.append(f'<rect x="{x}" y="10" width="12" height="12" '
                   f'fill="{COLOURS[kind]}"/>')
        out.append(f'<text x="{x + 16}" y="20">{html.escape(LEGEND[kind])}</text>')
        x += 105
    for i, (key, title) in enumerate(PANELS):
        x0, y0 = 10 + (i % 2) * PANEL_W, top + (i // 2) * panel_h
        out += svg_panel(results, rows, designs, METRICS[key], title, x0, y0)
    out.append(f'<text x="10" y="{height - 24}" fill="#555">Bars: the median '
               f'of the runs; the black line: their least and greatest. '
               f'* loadgen busy over {SATURATED:.0%} of its core: the rate is '
               f'the generator\'s.</text>')
    out.append(f'<text x="10" y="{height - 10}" fill="#555">! a run measured '
               f'while other programs kept over {QUIET:.0%} of a CPU busy: '
               f'disturbed.</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_panel(results, rows, designs, metric, title, x0, y0):
    """One panel. Its scale fits the floors, stages and exercises: a
    reference far beyond them (Python forking's 1000 processes) is cut at
    the edge, its number followed by »."""
    spreads = {r.name: results.spread(r.name, metric) for r in rows}
    ours = [spreads[r.name].high for r in rows
            if spreads[r.name] and r.kind != "reference"]
    top = max(ours or [s.high for s in spreads.values() if s] or [0])
    scale = BAR_W / top if top > 0 else 0

    def at(value):
        return x0 + LABEL_W + min(value * scale, BAR_W + 20)

    out = [f'<text x="{x0}" y="{y0 + 14}" font-weight="bold">'
           f'{html.escape(title)}</text>']
    y = y0 + 22
    for design in designs:
        out.append(f'<text x="{x0 + 4}" y="{y + 11}" fill="#777" '
                   f'font-style="italic">{html.escape(DESIGNS[design].title)}</text>')
        y += HEAD
        for row in (r for r in rows if r.design == design):
            s = spreads[row.name]
            out.append(f'<text x="{x0 + LABEL_W - 6}" y="{y + 10}" '
                       f'text-anchor="end">{html.escape(row.name)}</text>')
            if s is None:
                out.append(f'<text x="{x0 + LABEL_W}" y="{y + 10}" '
                           f'fill="#999">not measured</text>')
                y += BAR + GAP
                continue
            label = number(s.median, 1)
            if results.saturated(row.name, metric):
                label += " *"
            if results.disturbed(row.name, metric.key):
                label += " !"
            if s.high * scale > BAR_W + 20:
                label += " »"
            end = max(at(s.median), x0 + LABEL_W + 1)
            out += [f'<rect x="{x0 + LABEL_W}" y="{y}" width="{end - x0 - LABEL_W:.1f}" '
                    f'height="{BAR}" fill="{COLOURS[row.kind]}"/>',
                    f'<line x1="{at(s.low):.1f}" x2="{at(s.high):.1f}" '
                    f'y1="{y + BAR / 2}" y2="{y + BAR / 2}" stroke="black"/>',
                    f'<text x="{max(end, at(s.high)) + 4:.1f}" y="{y + 10}">'
                    f'{html.escape(label)}</text>']
            y += BAR + GAP
    return out
