"""Geometry for the leaderboard's inline SVG charts: numbers only, drawn by the templates.

Labels stay data (the templates escape them); coordinates and path strings are numbers,
so no text from a submission reaches SVG markup unescaped.
"""

from __future__ import annotations

import math

# Tableau 10: distinguishable, and readable on white.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
# Viridis at five stops (perceptually uniform, colour-blind safe).
VIRIDIS = ((0x44, 0x01, 0x54), (0x3b, 0x52, 0x8b), (0x21, 0x91, 0x8c), (0x5e, 0xc9, 0x62), (0xfd, 0xe7, 0x25))


def style(i: int) -> dict:
    return {"color": PALETTE[i % len(PALETTE)], "dash": DASHES[(i // len(PALETTE)) % len(DASHES)]}


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten)."""
    if hi <= lo:
        hi = lo + 1e-9
    raw = (hi - lo) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks = []
    value = start
    while value < hi + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def line_chart(series: list[dict], *, x_key: str, y_key: str, x_label: str, y_label: str, width: int = 560,
               height: int = 300, include_zero: bool = False) -> dict:
    """`series`: [{'name', 'points': [{x_key, y_key, ...}]}] -> axes, ticks and one polyline per series.

    `include_zero` stretches the y axis to 0 (for a gap, whose sign matters); a zero line is
    drawn wherever 0 lies on the axis."""
    left, right, top, bottom = 56, 16, 14, 44
    xs = [p[x_key] for s in series for p in s["points"] if p[y_key] is not None]
    ys = [p[y_key] for s in series for p in s["points"] if p[y_key] is not None]
    if not xs:
        return {"width": width, "height": height, "empty": True, "lines": []}
    xt = sorted(set(xs))
    lo, hi = min(ys), max(ys)
    yt = nice_ticks(min(lo, 0.0) if include_zero else lo, max(hi, 0.0) if include_zero else hi)
    x0, x1 = (xt[0], xt[-1]) if xt[-1] > xt[0] else (xt[0] - 0.05, xt[0] + 0.05)
    y0, y1 = yt[0], yt[-1]
    pw, ph = width - left - right, height - top - bottom

    def px(x):
        return round(left + (x - x0) / (x1 - x0) * pw, 1)

    def py(y):
        return round(top + (1 - (y - y0) / (y1 - y0)) * ph, 1)

    lines = []
    for i, s in enumerate(series):
        pts = [(px(p[x_key]), py(p[y_key]), p) for p in sorted(s["points"], key=lambda p: p[x_key])
               if p[y_key] is not None]
        if not pts:
            continue
        path = "M" + " L".join(f"{x},{y}" for x, y, _ in pts)
        lines.append({"name": s["name"], **style(i), "path": path,
                      "points": [{"x": x, "y": y, "label": f"{p[x_key]:g}", "value": p[y_key]} for x, y, p in pts]})
    return {
        "width": width, "height": height, "empty": False, "left": left, "top": top, "right": width - right,
        "bottom": height - bottom, "x_label": x_label, "y_label": y_label, "lines": lines,
        "xticks": [{"pos": px(x), "label": f"{x:g}"} for x in xt],
        "yticks": [{"pos": py(y), "label": f"{y:.2f}".rstrip("0").rstrip(".") if y else "0"} for y in yt],
        "zero": py(0.0) if y0 <= 0 <= y1 else None,
    }


def colour(value: float | None, lo: float, hi: float) -> tuple[str, str]:
    """Fill (viridis) for `value` on [lo, hi], and the text class that reads on it."""
    if value is None:
        return "#eeeeee", "on-light"
    t = 0.0 if hi <= lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
    pos = t * (len(VIRIDIS) - 1)
    i = min(int(pos), len(VIRIDIS) - 2)
    f = pos - i
    rgb = [round(a + (b - a) * f) for a, b in zip(VIRIDIS[i], VIRIDIS[i + 1], strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*rgb), "on-light" if t > 0.55 else "on-dark"


def scale_stops() -> list[dict]:
    """The heatmap's colour scale as gradient stops, for its legend."""
    n = len(VIRIDIS) - 1
    return [{"offset": f"{i / n:g}", "color": "#{:02x}{:02x}{:02x}".format(*rgb)} for i, rgb in enumerate(VIRIDIS)]


def heatmap(rows: list[str], cols: list[str], values: dict[tuple[str, str], float | None], *, lo: float = 0.0,
            hi: float = 1.0, cell_w: int = 62, cell_h: int = 24, label_w: int = 44) -> dict:
    """A grid of cells, one per (row, col), filled by value on the shared scale [lo, hi]."""
    top = 22
    cells = []
    for r, row in enumerate(rows):
        for c, col in enumerate(cols):
            v = values.get((row, col))
            fill, ink = colour(v, lo, hi)
            cells.append({"x": label_w + c * cell_w, "y": top + r * cell_h, "w": cell_w - 2, "h": cell_h - 2,
                          "fill": fill, "ink": ink, "value": v, "row": row, "col": col,
                          "text": "-" if v is None else f"{v:.3f}"})
    return {"width": label_w + len(cols) * cell_w, "height": top + len(rows) * cell_h + 4, "cells": cells,
            "rows": [{"label": row, "y": top + r * cell_h + cell_h / 2} for r, row in enumerate(rows)],
            "cols": [{"label": col, "x": label_w + c * cell_w + cell_w / 2} for c, col in enumerate(cols)],
            "cell_w": cell_w, "cell_h": cell_h}
