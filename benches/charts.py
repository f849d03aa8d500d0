#!/usr/bin/env python3
"""Draws the README's benchmark charts (SVG) from the benches' own output.

    benches/charts.py [RESULTS_DIR]

Reads RESULTS_DIR/many_sessions.txt (benches/many_sessions.sh's output: one line per run,
`contender=... sessions=... ns_per_request=... bytes_per_session=...`, and a `#` line naming
the machine) and writes RESULTS_DIR/many_sessions.svg: requests per second of the counter route
against the number of live sessions, one panel per store, ours beside tower-sessions', with the
machine and the method under them.

Reads RESULTS_DIR/large_sessions.txt too, if there is one (benches/large_sessions.sh's output:
`store=... contender=... size=COUNTxBYTES rps=...` lines after `#` lines naming the machine), and
writes RESULTS_DIR/large_sessions.svg: requests per second of the counter route over HTTP against
the session's size, one panel per store, each contender a line of its own, with the machine and
the method under them.

RESULTS_DIR defaults to benches/results. Python 3's standard library only.
"""

import math
import statistics
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
    "ours-pg": ("PostgreSQL", "ours"),
    "tower-pg": ("PostgreSQL", "tower-sessions"),
    "ours-sqlite": ("SQLite", "ours"),
    "tower-sqlite": ("SQLite", "tower-sessions"),
}
PANELS = ["memory", "moka", "Redis", "files", "PostgreSQL", "SQLite"]
# Each side's colour, and the dashes of its line.
STYLE = {
    "ours": ("#1f4e9c", ""),
    "tower-sessions": ("#d9731a", ' stroke-dasharray="5 3"'),
}
PANEL_W, PANEL_H, MARGIN = 250, 210, 60
# Panels per row in the many-sessions chart.
MANY_COLUMNS = 3


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
        if max((rps for points in series.values() for _, rps, _ in points), default=0) <= top * step:
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


def write_svg(parts, lines, y, out):
    """Ends a chart: `lines` (the machine and the method) under it from `y` down, then writes
    the SVG to `out`."""
    for j, text in enumerate(lines):
        parts.append(f'<text x="{MARGIN}" y="{y + j * 16}" font-size="11" '
                     f'fill="#444">{escape(text)}</text>')
    parts.append("</svg>")
    out.write_text("\n".join(parts) + "\n")
    print(f"wrote {out}")


def many_sessions(results):
    runs, notes = read_runs(results / "many_sessions.txt")
    sizes = sorted({int(run["sessions"]) for run in runs})
    by_store = {store: {} for store in PANELS}
    for (contender, sessions), ns, per_session in medians(runs):
        store, who = STORES[contender]
        by_store[store].setdefault(who, []).append((sessions, 1e9 / ns, per_session))
    columns = min(len(PANELS), MANY_COLUMNS)
    rows = math.ceil(len(PANELS) / columns)
    row_h = PANEL_H + 70
    width = MARGIN + columns * (PANEL_W + MARGIN)
    height = 60 + rows * row_h + 100
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{MARGIN}" y="20" font-size="14" font-weight="bold">The counter route '
             'with many live sessions: requests per second (one at a time, in process)</text>']
    for i, store in enumerate(PANELS):
        x0 = MARGIN + (i % columns) * (PANEL_W + MARGIN)
        y0 = 60 + (i // columns) * row_h
        parts += panel(x0, y0, store, by_store[store], sizes)
    for row in range(rows):
        mid = 60 + row * row_h + PANEL_H / 2
        parts.append(f'<text x="14" y="{mid}" font-size="11" text-anchor="middle" '
                     f'transform="rotate(-90 14 {mid})">requests per second</text>')
    legend_y = 60 + (rows - 1) * row_h + PANEL_H + 40
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
              "shuffled order. tower-sessions has no file store;",
              "the SQL stores (a commit's fsync per request) run once per size, up to 100 000 "
              "sessions."]
    write_svg(parts, notes + method, legend_y + 14, results / "many_sessions.svg")


# The large-sessions chart (benches/large_sessions.sh's output): each store's panel title, in the
# order drawn (three a row), and each contender's colour, dashes and legend.
LARGE_PANELS = [
    ("memory", "memory"),
    ("moka", "moka"),
    ("file", "files"),
    ("redis", "Redis"),
    ("pg", "PostgreSQL"),
    ("sqlite", "SQLite"),
]
LARGE_STYLE = {
    "ours-axum": ("#1f4e9c", "", "ours (axum)"),
    "tower-sessions": ("#d9731a", ' stroke-dasharray="5 3"', "tower-sessions (axum)"),
    "ours-actix": ("#2a8a3e", ' stroke-dasharray="9 3 2 3"', "ours (actix-web)"),
    "actix-session": ("#b8323b", ' stroke-dasharray="2 3"', "actix-session (actix-web)"),
}
LARGE_COLUMNS = 3


def read_blocks(path):
    """A results file's blocks: each `#` header line with the runs (dicts) after it."""
    blocks = []
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            blocks.append((line.lstrip("# ").strip(), []))
        elif "=" in line:
            if not blocks:
                blocks.append(("", []))
            blocks[-1][1].append(dict(pair.split("=", 1) for pair in line.split()))
    return blocks


def size_label(size):
    """`100x500` -> `100×500`; a size that fills nothing (`1x0`) -> `none`."""
    count, _, each = size.partition("x")
    return "none" if count == "0" or each == "0" else f"{count}×{each}"


def round_scale(value):
    """A y scale for values up to `value`: the lowest of 1, 2 or 5 times a power of ten at or
    above it, and how many steps its grid has (five for 5, four otherwise)."""
    if value <= 0:
        return 1, 4
    power = 10 ** math.floor(math.log10(value))
    top = next(power * m for m in (1, 2, 5, 10) if value <= power * m)
    return top, 5 if top / power == 5 else 4


def large_panel(x0, y0, title, series, sizes):
    """One store's panel: requests per second (y) against session size (x, one slot a size)."""
    parts = [f'<text x="{x0 + PANEL_W / 2}" y="{y0 - 12}" text-anchor="middle" '
             f'font-weight="bold">{escape(title)}</text>',
             f'<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" '
             'fill="none" stroke="#999"/>']
    top, steps = round_scale(max((rps for points in series.values() for rps in points.values()),
                                 default=0) * 1.05)

    def x(i):
        return x0 + (i + 0.5) * PANEL_W / len(sizes)

    def y(rps):
        return y0 + PANEL_H - rps / top * PANEL_H

    for i in range(steps + 1):
        value = top * i / steps
        parts.append(f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{y(value)}" y2="{y(value)}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{x0 - 4}" y="{y(value) + 4}" text-anchor="end" '
                     f'font-size="10">{short(value)}</text>')
    for i, size in enumerate(sizes):
        parts.append(f'<text x="{x(i):.1f}" y="{y0 + PANEL_H + 14}" text-anchor="middle" '
                     f'font-size="10">{escape(size_label(size))}</text>')
    if not series:
        parts.append(f'<text x="{x0 + PANEL_W / 2}" y="{y0 + PANEL_H / 2}" '
                     'text-anchor="middle" fill="#999">no runs</text>')
    for contender in LARGE_STYLE:
        points = [(i, series[contender][size]) for i, size in enumerate(sizes)
                  if size in series.get(contender, {})]
        if not points:
            continue
        colour, dashes, _ = LARGE_STYLE[contender]
        path = " ".join(f"{x(i):.1f},{y(rps):.1f}" for i, rps in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke-width="2" '
                     f'stroke="{colour}"{dashes}/>')
        for i, rps in points:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(rps):.1f}" r="3" fill="{colour}"/>')
    return parts


def large_sessions(results):
    """RESULTS_DIR/large_sessions.svg from RESULTS_DIR/large_sessions.txt: for each store, the
    median requests per second of each contender and size over the runs of the last block (the
    last run of benches/large_sessions.sh) that measured the store."""
    blocks = read_blocks(results / "large_sessions.txt")
    runs, notes = [], []
    for store, _ in LARGE_PANELS:
        latest = [b for b in blocks if any(run["store"] == store for run in b[1])]
        if latest:
            header, block = latest[-1]
            runs += [run for run in block if run["store"] == store]
            if header and header not in notes:
                notes.append(header)
    sizes = list(dict.fromkeys(run["size"] for run in runs))
    grouped = {}
    for run in runs:
        key = (run["store"], run["contender"], run["size"])
        grouped.setdefault(key, []).append(float(run["rps"]))
    by_store = {}
    for (store, contender, size), values in grouped.items():
        by_store.setdefault(store, {}).setdefault(contender, {})[size] = statistics.median(values)
    connections = sorted({run["connections"] for run in runs}, key=int)
    rows = math.ceil(len(LARGE_PANELS) / LARGE_COLUMNS)
    row_h = PANEL_H + 70
    width = MARGIN + LARGE_COLUMNS * (PANEL_W + MARGIN)
    legend_y = 60 + rows * row_h + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{legend_y + 40 + 16 * (len(notes) + 3)}" '
             'font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{MARGIN}" y="20" font-size="14" font-weight="bold">The counter route '
             f'on large sessions: requests per second ({"/".join(connections) or "no"} '
             'connections over HTTP)</text>']
    for n, (store, title) in enumerate(LARGE_PANELS):
        row, column = divmod(n, LARGE_COLUMNS)
        x0, y0 = MARGIN + column * (PANEL_W + MARGIN), 60 + row * row_h
        parts += large_panel(x0, y0, title, by_store.get(store, {}), sizes or ["1x0"])
        parts.append(f'<text x="{x0 - 44}" y="{y0 + PANEL_H / 2}" font-size="11" '
                     f'text-anchor="middle" transform="rotate(-90 {x0 - 44} '
                     f'{y0 + PANEL_H / 2})">requests per second</text>')
    parts.append(f'<text x="{MARGIN}" y="{legend_y}" font-size="11">session size: values × '
                 'characters each, besides the counter</text>')
    for i, (colour, dashes, label) in enumerate(LARGE_STYLE.values()):
        lx = MARGIN + i * 190
        parts.append(f'<line x1="{lx}" x2="{lx + 30}" y1="{legend_y + 20}" '
                     f'y2="{legend_y + 20}" stroke-width="2" stroke="{colour}"{dashes}/>')
        parts.append(f'<text x="{lx + 36}" y="{legend_y + 24}">{escape(label)}</text>')
    method = ["Each point: the median of the runs of a store, size and contender; a run is one "
              "process per store and size, its contenders one after another with the same load,",
              "each connection a session of its own, filled before the measurement, then GET / "
              "(read the counter, write counter + 1) as fast as the answers come, every answer "
              "checked.",
              "Nothing pinned: servers, load driver and store share the machine's cores. "
              "tower-sessions has no file store; actix-session runs on Redis only (its cookie "
              "store cannot hold these sessions)."]
    write_svg(parts, notes + method, legend_y + 50, results / "large_sessions.svg")


def main():
    results = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results"
    many_sessions(results)
    if (results / "large_sessions.txt").exists():
        large_sessions(results)


if __name__ == "__main__":
    main()
