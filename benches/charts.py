#!/usr/bin/env python3
"""Draws the README's benchmark charts (SVG) from the benches' own output.

    benches/charts.py [RESULTS_DIR]

Reads RESULTS_DIR/many_sessions.txt (benches/many_sessions.sh's output: one line per run,
`contender=... sessions=... ns_per_request=... bytes_per_session=...`, and a `#` line naming
the machine) and writes RESULTS_DIR/many_sessions.svg: requests per second of the counter route
against the number of live sessions, one panel per store, ours beside tower-sessions', with the
machine and the method under them. RESULTS_DIR defaults to benches/results. Python 3's standard
library only.
"""

import math
import sys
from pathlib import Path

# Which store each contender runs on, and whose it is.
STORES = {
    "ours-memory": ("memory", "ours"),
    "tower-memory": ("memory", "tower-sessions"),
    "ours-cache": ("moka", "ours"),
    "tower-moka": ("moka", "tower-sessions"),
    "ours-redis": ("Redis", "ours"),
    "tower-redis": ("Redis", "tower-sessions"),
    "ours-file": ("files", "ours"),
}
PANELS = ["memory", "moka", "Redis", "files"]
# Each side's colour, and the dashes of its line.
STYLE = {
    "ours": ("#1f4e9c", ""),
    "tower-sessions": ("#d9731a", ' stroke-dasharray="5 3"'),
}
PANEL_W, PANEL_H, MARGIN = 250, 210, 60


def read_runs(path):
    """The runs of a results file, as dicts, and its `#` header lines."""
    runs, notes = [], []
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            notes.append(line.lstrip("# ").strip())
        elif "=" in line:
            runs.append(dict(pair.split("=", 1) for pair in line.split()))
    return runs, notes


def medians(runs):
    """One point per contender and size: the median time per request (and bytes per session)
    of its repeated runs."""
    grouped = {}
    for run in runs:
        key = (run["contender"], int(run["sessions"]))
        grouped.setdefault(key, []).append(
            (float(run["ns_per_request"]), int(run["bytes_per_session"])))
    for key, values in sorted(grouped.items()):
        values.sort()
        ns, _ = values[len(values) // 2]
        per_session = sorted(b for _, b in values)[len(values) // 2]
        yield key, ns, per_session


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def short(n):
    """1000 -> 1k, 2500 -> 2.5k, 1000000 -> 1M."""
    for unit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= unit:
            return f"{n / unit:g}{suffix}"
    return f"{n:g}"


def panel(x0, y0, store, series, sizes):
    """One panel's SVG: requests per second (y) against live sessions (x, logarithmic)."""
    parts = []
    top = max((rps for points in series.values() for _, rps, _ in points), default=1)
    top = 10 ** math.ceil(math.log10(top * 1.05)) if top > 0 else 1
    # A round scale: 1, 2 or 5 times a power of ten, above the highest point.
    for step in (0.2, 0.5, 1.0):
        if max(rps for points in series.values() for _, rps, _ in points) <= top * step:
            top *= step
            break
    lo, hi = math.log10(min(sizes)), math.log10(max(sizes))
    span = max(hi - lo, 1)

    def x(n):
        return x0 + 10 + (math.log10(n) - lo) / span * (PANEL_W - 20)

    def y(rps):
        return y0 + PANEL_H - rps / top * PANEL_H

    parts.append(f'<text x="{x0 + PANEL_W / 2}" y="{y0 - 12}" text-anchor="middle" '
                 f'font-weight="bold">{escape(store)}</text>')
    parts.append(f'<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" '
                 'fill="none" stroke="#999"/>')
    for i in range(5):
        value = top * i / 4
        parts.append(f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{y(value)}" y2="{y(value)}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{x0 - 4}" y="{y(value) + 4}" text-anchor="end" '
                     f'font-size="10">{short(value)}</text>')
    for n in sizes:
        parts.append(f'<text x="{x(n)}" y="{y0 + PANEL_H + 14}" text-anchor="middle" '
                     f'font-size="10">{short(n)}</text>')
    for who, points in series.items():
        points = sorted(points)
        path = " ".join(f"{x(n):.1f},{y(rps):.1f}" for n, rps, _ in points)
        colour, dashes = STYLE[who]
        parts.append(f'<polyline points="{path}" fill="none" stroke-width="2" '
                     f'stroke="{colour}"{dashes}/>')
        for n, rps, _ in points:
            parts.append(f'<circle cx="{x(n):.1f}" cy="{y(rps):.1f}" r="3" fill="{colour}"/>')
    return parts


def many_sessions(results):
    runs, notes = read_runs(results / "many_sessions.txt")
    sizes = sorted({int(run["sessions"]) for run in runs})
    by_store = {store: {} for store in PANELS}
    for (contender, sessions), ns, per_session in medians(runs):
        store, who = STORES[contender]
        by_store[store].setdefault(who, []).append((sessions, 1e9 / ns, per_session))
    width = MARGIN + len(PANELS) * (PANEL_W + MARGIN)
    height = PANEL_H + 170
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{MARGIN}" y="20" font-size="14" font-weight="bold">The counter route '
             'with many live sessions: requests per second (one at a time, in process)</text>']
    for i, store in enumerate(PANELS):
        parts += panel(MARGIN + i * (PANEL_W + MARGIN), 60, store, by_store[store], sizes)
    parts.append(f'<text x="14" y="{60 + PANEL_H / 2}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 14 {60 + PANEL_H / 2})">requests per second</text>')
    legend_y = 60 + PANEL_H + 40
    parts.append(f'<text x="{MARGIN}" y="{legend_y - 10}" font-size="11">live sessions '
                 '(logarithmic)</text>')
    for i, who in enumerate(("ours", "tower-sessions")):
        lx = MARGIN + 200 + i * 160
        colour, dashes = STYLE[who]
        parts.append(f'<line x1="{lx}" x2="{lx + 30}" y1="{legend_y - 14}" '
                     f'y2="{legend_y - 14}" stroke-width="2" stroke="{colour}"{dashes}/>')
        parts.append(f'<text x="{lx + 36}" y="{legend_y - 10}">{who}</text>')
    method = ["Each point: the median of the runs of a contender and size, each run a process of "
              "its own on one CPU (with its redis-server);",
              "the sessions made through the app, then counter requests to 1 000 of them in a "
              "shuffled order. tower-sessions has no file store."]
    for j, text in enumerate(notes + method):
        parts.append(f'<text x="{MARGIN}" y="{legend_y + 14 + j * 16}" font-size="11" '
                     f'fill="#444">{escape(text)}</text>')
    parts.append("</svg>")
    out = results / "many_sessions.svg"
    out.write_text("\n".join(parts) + "\n")
    print(f"wrote {out}")


def main():
    results = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results"
    many_sessions(results)


if __name__ == "__main__":
    main()
