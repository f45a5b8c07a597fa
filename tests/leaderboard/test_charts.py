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
    steps = {round(b - a, 12) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1


def test_change_heatmap_shows_the_base_then_changes_on_one_diverging_scale():
    values = {("sw", "0"): 0.80, ("sw", "0.5"): 0.64, ("de", "0"): 0.90, ("de", "0.5"): 0.91, ("yo", "0"): 0.7}
    grid = charts.change_heatmap(["sw", "yo", "de"], ["0", "0.5"], values, divider_after=1)
    cells = {(c["row"], c["col"]): c for c in grid["cells"]}
    assert cells[("sw", "0")]["text"] == "0.800" and cells[("sw", "0")]["base"]
    assert cells[("sw", "0.5")]["text"] == "-0.160" and cells[("de", "0.5")]["text"] == "+0.010"
    assert grid["span"] == pytest.approx(0.16)  # the largest change sets the scale
    assert cells[("sw", "0.5")]["fill"] == "#b35806" and cells[("sw", "0.5")]["ink"] == "on-dark"  # full orange
    assert cells[("yo", "0.5")]["text"] == "-" and cells[("yo", "0.5")]["fill"] == "#eeeeee"
    assert cells[("de", "0")]["y"] > grid["divider"] > cells[("yo", "0")]["y"]  # low above, high below


def test_palette_contrast_markers_and_error_bars():
    assert all(charts.contrast_on_white(c) >= 3.0 for c in charts.PALETTE)
    looks = {(s["color"], s["dash"], s["marker"]) for s in map(charts.style, range(8))}
    assert len(looks) == 8 and len({s["marker"] for s in map(charts.style, range(4))}) == 4
    points = [{"rate": 0.0, "m": 0.5, "ci": (0.4, 0.7)}, {"rate": 0.5, "m": 0.45, "ci": None}]
    series = [{"name": "a", "points": points}]
    chart = charts.line_chart(series, x_key="rate", y_key="m", ci_key="ci", x_label="x", y_label="y")
    first, second = chart["lines"][0]["points"]
    assert first["bar"]["low"] == 0.4 and first["bar"]["y1"] > first["y"] > first["bar"]["y2"]
    assert second["bar"] is None
    assert float(chart["yticks"][-1]["label"]) >= 0.7  # the axis holds the intervals


def test_difference_bars_sort_and_count():
    chart = charts.difference_bars([("q1", 0.2), ("q2", -0.1), ("q3", 0.0), ("q4", 0.05)])
    assert [b["label"] for b in chart["bars"]] == ["q1", "q4", "q3", "q2"]
    assert (chart["better"], chart["worse"], chart["same"]) == (2, 1, 1)
    up, down = chart["bars"][0], chart["bars"][-1]
    assert up["y"] + up["h"] == pytest.approx(chart["zero"]) and down["y"] == chart["zero"]
    assert charts.difference_bars([])["empty"]


def test_tick_labels_have_the_decimals_their_step_needs():
    from clir_bench.leaderboard.charts import _tick_label

    for lo, hi in ((0.985, 0.9993), (0.0, 0.8), (0.62, 0.78), (-0.05, 0.2)):
        ticks = charts.nice_ticks(lo, hi)
        labels = [_tick_label(t, ticks) for t in ticks]
        assert len(set(labels)) == len(labels), labels  # never "0.99" twice on an AUC axis


def test_a_reference_line_is_labelled_and_every_end_label_sits_in_one_column():
    series = [{"name": f"s{i}", "points": [{"rate": r, "mean": 0.6 + 0.01 * i, "ci": (0.55, 0.7)} for r in (0, .5)]}
              for i in range(4)]
    c = charts.line_chart(series, x_key="rate", y_key="mean", ci_key="ci", x_label="x", y_label="y", baseline=0.15,
                   baseline_label="chance (0.150)")
    assert c["zero_label"] == "chance (0.150)" and c["yticks"][0]["label"] in ("0", "0.1")  # the axis reaches chance
    xs = {line["label_x"] for line in c["lines"]}
    assert len(xs) == 1 and min(xs) > c["right"]
    ys = sorted(line["label_y"] for line in c["lines"])
    assert all(b - a >= 14 for a, b in zip(ys, ys[1:], strict=False))


def test_low_high_scatter_places_systems_the_diagonal_and_chance():
    points = [{"name": "a", "low": 0.6, "high": 0.75, "group": "top"}, {"name": "b", "low": 0.16, "high": 0.2,
                                                                          "group": "below"}]
    c = charts.low_high_scatter(points, chance={"low": 0.15, "high": 0.15})
    a, b = c["points"]
    assert a["x"] > b["x"] and a["y"] < b["y"]  # higher on both axes: right and up (SVG y grows downwards)
    d = c["diagonal"]
    assert (d["x1"], d["y1"], d["x2"], d["y2"]) == (c["left"], c["bottom"], c["right"], c["top"])  # low = high
    assert abs(c["chance"]["x"] - b["x"]) < 20 and c["left"] <= c["chance"]["x"] <= c["right"]
    assert charts.low_high_scatter([], chance=None)["empty"]


def test_heatmap_stars_only_the_changes_its_tests_call_significant():
    values = {("sw", "0"): 0.5, ("sw", "0.5"): 0.6, ("de", "0"): 0.7, ("de", "0.5"): 0.71}
    tests = {("sw", "0.5"): {"p": 0.001, "p_holm": 0.002, "significant": True},
             ("de", "0.5"): {"p": 0.4, "p_holm": 0.4, "significant": False}}
    h = charts.change_heatmap(["sw", "de"], ["0", "0.5"], values, tests=tests)
    cells = {(c["row"], c["col"]): c for c in h["cells"]}
    assert cells[("sw", "0.5")]["text"] == "+0.100*" and cells[("sw", "0.5")]["significant"]
    assert cells[("de", "0.5")]["text"] == "+0.010" and not cells[("de", "0.5")]["significant"]
    assert not cells[("sw", "0")]["significant"] and cells[("sw", "0")]["p_holm"] is None
