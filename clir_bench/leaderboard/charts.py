"""Geometry for the leaderboard's inline SVG charts: numbers only, drawn by the templates.

Labels stay data (the templates escape them); coordinates and path strings are numbers,
so no text from a submission reaches SVG markup unescaped.
"""

from __future__ import annotations

import math

# Ten hues, each at least 4.5:1 against white (WCAG AA for text; tests check >= 3:1), told apart by
# marker shape and dash pattern as well as colour.
PALETTE = ("#1f5fa8", "#c4461c", "#1b7f5c", "#8e3b8e", "#000000", "#8a6d00", "#1d7d8f", "#a3294f", "#5a5a5a",
           "#6b4ca8")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond")
# Orange - white - purple (ColorBrewer PuOr, colour-blind safe): worse, unchanged, better.
DIVERGING = ((0xb3, 0x58, 0x06), (0xf1, 0xa3, 0x40), (0xf7, 0xf7, 0xf7), (0x99, 0x8e, 0xc3), (0x54, 0x27, 0x88))


def style(i: int) -> dict:
    return {"color": PALETTE[i % len(PALETTE)], "dash": DASHES[i % len(DASHES)], "marker": MARKERS[i % len(MARKERS)]}


def contrast_on_white(colour: str) -> float:
    """WCAG 2 contrast ratio of `colour` (#rrggbb) against white."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def marker_path(shape: str, x: float, y: float, r: float = 4.0) -> str:
    """An SVG path for a point marker centred on (x, y)."""
    if shape == "square":
        return f"M{x - r:.1f},{y - r:.1f}h{2 * r:.1f}v{2 * r:.1f}h{-2 * r:.1f}Z"
    if shape == "triangle":
        return f"M{x:.1f},{y - r * 1.2:.1f}L{x + r * 1.1:.1f},{y + r * .9:.1f}L{x - r * 1.1:.1f},{y + r * .9:.1f}Z"
    if shape == "diamond":
        return f"M{x:.1f},{y - r * 1.3:.1f}L{x + r:.1f},{y:.1f}L{x:.1f},{y + r * 1.3:.1f}L{x - r:.1f},{y:.1f}Z"
    return f"M{x - r:.1f},{y:.1f}a{r:.1f},{r:.1f} 0 1,0 {2 * r:.1f},0a{r:.1f},{r:.1f} 0 1,0 {-2 * r:.1f},0"


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


def line_chart(series: list[dict], *, x_key: str, y_key: str, x_label: str, y_label: str, width: int = 700,
               height: int = 320, include_zero: bool = False, ci_key: str | None = None,
               baseline: float | None = None, baseline_label: str | None = None) -> dict:
    """`series`: [{'name', 'points': [{x_key, y_key, ...}]}] -> axes, ticks, one polyline per series
    with a marker per point, an error bar per point from `ci_key` ((low, high)), and a direct
    label at each line's end.

    The y axis spans the data and the intervals (zoomed, not 0-1); `include_zero` stretches it
    to 0 (for a gap, whose sign matters); a zero line is drawn wherever 0 lies on the axis, or, with
    `baseline` (chance: 0.5 for an AUC), at that value, which the axis then includes, labelled
    `baseline_label`."""
    left, right, top, bottom = 56, 210, 14, 44

    def bounds(p):
        ci = p.get(ci_key) if ci_key else None
        return [v for v in (ci or ()) if v is not None]

    xs = [p[x_key] for s in series for p in s["points"] if p[y_key] is not None]
    ys = [v for s in series for p in s["points"] if p[y_key] is not None for v in (p[y_key], *bounds(p))]
    if not xs:
        return {"width": width, "height": height, "empty": True, "lines": []}
    xt = sorted(set(xs))
    lo, hi = min(ys + [baseline] * (baseline is not None)), max(ys + [baseline] * (baseline is not None))
    yt = nice_ticks(min(lo, 0.0) if include_zero else lo, max(hi, 0.0) if include_zero else hi)
    x0, x1 = (xt[0], xt[-1]) if xt[-1] > xt[0] else (xt[0] - 0.05, xt[0] + 0.05)
    y0, y1 = yt[0], yt[-1]
    px, py = _scales((left, width - right, x0, x1), (top, height - bottom, y0, y1))
    lines = []
    for i, s in enumerate(series):
        dodge = (i - (len(series) - 1) / 2) * min(3.0, 24.0 / max(1, len(series)))  # error bars side by side
        pts = [(round(px(p[x_key]) + dodge, 1), py(p[y_key]), p) for p in sorted(s["points"], key=lambda p: p[x_key])
               if p[y_key] is not None]
        if not pts:
            continue
        path = "M" + " L".join(f"{x},{y}" for x, y, _ in pts)
        look = style(i)
        points = []
        for x, y, p in pts:
            ci = bounds(p)
            bar = {"y1": py(min(ci)), "y2": py(max(ci)), "low": min(ci), "high": max(ci)} if len(ci) == 2 else None
            points.append({"x": x, "y": y, "label": f"{p[x_key]:g}", "value": p[y_key], "bar": bar,
                           "marker": marker_path(look["marker"], x, y)})
        lines.append({"name": s["name"], **look, "path": path, "points": points, "label_y": pts[-1][1],
                      "label_x": width - right + 14})  # one column of labels, clear of the dodged error bars
    _spread_labels(lines, top, height - bottom)
    return {
        "width": width, "height": height, "empty": False, "left": left, "top": top, "right": width - right,
        "bottom": height - bottom, "x_label": x_label, "y_label": y_label, "lines": lines,
        "xticks": [{"pos": px(x), "label": f"{x:g}"} for x in xt],
        "yticks": [{"pos": py(y), "label": _tick_label(y, yt)} for y in yt],
        "zero": py(baseline) if baseline is not None else py(0.0) if y0 <= 0 <= y1 else None,
        "zero_label": baseline_label if baseline is not None else None,
    }


def _scales(x: tuple, y: tuple):
    """Pixel mappings for a plot: x = (left px, right px, lowest value, highest value) to the right,
    y = (top px, bottom px, lowest, highest) upwards (SVG's y grows downwards); rounded to 0.1 px."""
    (x_px0, x_px1, x0, x1), (y_top, y_bottom, y0, y1) = x, y

    def px(v):
        return round(x_px0 + (v - x0) / (x1 - x0) * (x_px1 - x_px0), 1)

    def py(v):
        return round(y_top + (1 - (v - y0) / (y1 - y0)) * (y_bottom - y_top), 1)

    return px, py


def _tick_label(y: float, ticks: list[float]) -> str:
    """A tick's value with as many decimals as the ticks' step needs (0.985, 0.99, 0.995: never 0.99 twice)."""
    step = min((b - a for a, b in zip(ticks, ticks[1:], strict=False)), default=1.0) or 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{y:.{decimals}f}" if y else "0"


def _spread_labels(lines: list[dict], top: float, bottom: float, gap: float = 14.0) -> None:
    """Move end labels apart vertically (at least `gap` px) so that no two overlap."""
    order = sorted(lines, key=lambda line: line["label_y"])
    for prev, line in zip(order, order[1:], strict=False):
        line["label_y"] = max(line["label_y"], prev["label_y"] + gap)
    overflow = (order[-1]["label_y"] - bottom) if order else 0
    if overflow > 0:
        for line in order:
            line["label_y"] -= overflow
    for line in order:
        line["label_y"] = round(max(line["label_y"], top + 4), 1)


def diverging(delta: float | None, span: float) -> tuple[str, str]:
    """Fill for a change `delta` on [-span, +span] (orange worse, white none, purple better), and ink."""
    if delta is None:
        return "#eeeeee", "on-light"
    t = 0.5 if span <= 0 else min(1.0, max(0.0, 0.5 + delta / (2 * span)))
    pos = t * (len(DIVERGING) - 1)
    i = min(int(pos), len(DIVERGING) - 2)
    f = pos - i
    rgb = [round(a + (b - a) * f) for a, b in zip(DIVERGING[i], DIVERGING[i + 1], strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*rgb), "on-dark" if abs(t - 0.5) > 0.38 else "on-light"


def diverging_stops() -> list[dict]:
    n = len(DIVERGING) - 1
    return [{"offset": f"{i / n:g}", "color": "#{:02x}{:02x}{:02x}".format(*rgb)} for i, rgb in enumerate(DIVERGING)]


def change_heatmap(rows: list[str], cols: list[str], values: dict[tuple[str, str], float | None], *,
                   divider_after: int | None = None, span: float | None = None, cell_w: int = 62, cell_h: int = 24,
                   label_w: int = 44, tests: dict | None = None) -> dict:
    """Rows (languages) x columns (noise rates): the first column's value, then each other
    column's change from it on a diverging scale of +-`span` (default: the largest change, at
    least 0.05). `divider_after` draws a line below that row (low- from high-resource)."""
    base = {row: values.get((row, cols[0])) for row in rows}
    deltas = {(row, col): None if values.get((row, col)) is None or base[row] is None
              else values[(row, col)] - base[row] for row in rows for col in cols[1:]}
    if span is None:
        span = max([0.05, *(abs(d) for d in deltas.values() if d is not None)])
    top = 22
    cells = []
    for r, row in enumerate(rows):
        for c, col in enumerate(cols):
            v = values.get((row, col))
            if c == 0:
                fill, ink, text = ("#eeeeee" if v is None else "#ffffff"), "on-light", "-" if v is None else f"{v:.3f}"
            else:
                d = deltas[(row, col)]
                fill, ink = diverging(d, span)
                text = "-" if d is None else f"{round(d, 3) or 0.0:+.3f}"  # never "-0.000"
                test = (tests or {}).get((row, col))
                if test and test["significant"]:
                    text += "*"
            test = (tests or {}).get((row, col)) if c else None
            cells.append({"x": label_w + c * cell_w, "y": top + r * cell_h, "w": cell_w - 2, "h": cell_h - 2,
                          "fill": fill, "ink": ink, "value": v, "row": row, "col": col, "text": text,
                          "base": c == 0, "p_holm": test["p_holm"] if test else None,
                          "significant": bool(test and test["significant"])})
    divider = None if divider_after is None else top + (divider_after + 1) * cell_h - 1
    return {"width": label_w + len(cols) * cell_w, "height": top + len(rows) * cell_h + 4, "cells": cells,
            "rows": [{"label": row, "y": top + r * cell_h + cell_h / 2} for r, row in enumerate(rows)],
            "cols": [{"label": col, "x": label_w + c * cell_w + cell_w / 2} for c, col in enumerate(cols)],
            "cell_w": cell_w, "cell_h": cell_h, "divider": divider, "span": span}


def difference_bars(values: list[tuple[str, float]], *, width: int = 620, height: int = 160) -> dict:
    """Per-query differences (label, A - B), sorted, as bars up (A better) or down from a zero line."""
    left, right, top, bottom = 44, 8, 10, 22
    if not values:
        return {"empty": True, "width": width, "height": height, "bars": []}
    ordered = sorted(values, key=lambda v: (-v[1], v[0]))
    span = max(0.05, *(abs(v) for _, v in ordered))
    ph, pw = height - top - bottom, width - left - right
    zero = top + ph / 2
    step = pw / len(ordered)
    bars = []
    for i, (label, v) in enumerate(ordered):
        h = abs(v) / span * ph / 2
        bars.append({"x": round(left + i * step, 2), "w": round(max(step - 0.5, 0.5), 2),
                     "y": round(zero - h if v > 0 else zero, 2), "h": round(max(h, 0.0), 2), "label": label,
                     "value": v, "sign": "up" if v > 0 else "down" if v < 0 else "zero"})
    return {"empty": False, "width": width, "height": height, "bars": bars, "zero": round(zero, 2), "left": left,
            "right": width - right, "top": top, "bottom": height - bottom, "span": span,
            "better": sum(v > 0 for _, v in ordered), "worse": sum(v < 0 for _, v in ordered),
            "same": sum(v == 0 for _, v in ordered)}


def low_high_scatter(points: list[dict], *, chance: dict | None, width: int = 560, height: int = 380) -> dict:
    """Each system's low-resource mean (x) against its high-resource mean (y), with the diagonal
    (gap 0) and chance's point: a system closes the gap by rising towards the diagonal, or by
    sitting near chance on both axes. `points`: [{'name', 'low', 'high', 'group'}]."""
    left, right, top, bottom = 52, 160, 12, 44  # room on the right for the names
    pts = [p for p in points if p.get("low") is not None and p.get("high") is not None]
    if not pts:
        return {"empty": True, "width": width, "height": height, "points": []}
    values = [v for p in pts for v in (p["low"], p["high"])]
    if chance:
        values += [chance["low"], chance["high"]]
    ticks = nice_ticks(min(values), max(values))
    lo, hi = ticks[0], ticks[-1]
    px, py = _scales((left, width - right, lo, hi), (top, height - bottom, lo, hi))
    drawn = [{**p, "x": px(p["low"]), "y": py(p["high"])} for p in pts]
    labels = sorted(drawn, key=lambda p: p["y"])
    for prev, cur in zip(labels, labels[1:], strict=False):  # labels at least 13 px apart vertically
        cur["label_y"] = max(cur["y"], prev.get("label_y", prev["y"]) + 13) if abs(cur["x"] - prev["x"]) < 120 \
            else cur["y"]
    for p in drawn:
        p.setdefault("label_y", p["y"])
    return {"empty": False, "width": width, "height": height, "left": left, "right": width - right, "top": top,
            "bottom": height - bottom, "points": drawn,
            "ticks": [{"x": px(t), "y": py(t), "label": _tick_label(t, ticks)} for t in ticks],
            "diagonal": {"x1": px(lo), "y1": py(lo), "x2": px(hi), "y2": py(hi),
                         "label_x": px(lo + 0.3 * (hi - lo)), "label_y": py(lo + 0.3 * (hi - lo))},
            "chance": {"x": px(chance["low"]), "y": py(chance["high"]), "low": chance["low"],
                       "high": chance["high"]} if chance else None}
