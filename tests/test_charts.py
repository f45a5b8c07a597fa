"""The leaderboard's chart geometry (numbers only; the templates draw them)."""

import pytest

from clir_bench.leaderboard import charts


def _series(*ys):
    return [{"name": "s", "points": [{"rate": i / 10, "gap": y} for i, y in enumerate(ys)]}]


def test_zero_baseline_is_drawn_for_all_positive_values_when_asked():
    chart = charts.line_chart(_series(0.05, 0.1), x_key="rate", y_key="gap", x_label="x", y_label="y",
                              include_zero=True)
    assert chart["yticks"][0]["label"] == "0" and chart["zero"] == chart["bottom"]
    tight = charts.line_chart(_series(0.05, 0.1), x_key="rate", y_key="gap", x_label="x", y_label="y")
    assert tight["zero"] is None and tight["yticks"][0]["label"] != "0"


def test_zero_line_inside_a_range_that_crosses_zero():
    chart = charts.line_chart(_series(-0.05, 0.1), x_key="rate", y_key="gap", x_label="x", y_label="y")
    assert chart["top"] < chart["zero"] < chart["bottom"]


@pytest.mark.parametrize("lo, hi", [(0.0, 1.0), (0.21, 0.87), (-0.03, 0.04), (5.0, 5.0)])
def test_nice_ticks_cover_the_range_with_round_steps(lo, hi):
    ticks = charts.nice_ticks(lo, hi)
    assert ticks[0] <= lo + 1e-12 and ticks[-1] >= hi - 1e-12
    steps = {round(b - a, 12) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1


def test_heatmap_colours_read_and_missing_cells_are_grey():
    grid = charts.heatmap(["sw", "de"], ["0", "0.5"], {("sw", "0"): 0.2, ("de", "0"): 0.9})
    cells = {(c["row"], c["col"]): c for c in grid["cells"]}
    assert cells[("sw", "0.5")]["fill"] == "#eeeeee" and cells[("sw", "0.5")]["text"] == "-"
    assert cells[("sw", "0")]["ink"] == "on-dark" and cells[("de", "0")]["ink"] == "on-light"
