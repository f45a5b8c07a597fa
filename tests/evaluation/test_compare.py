"""`clir-bench compare`: paired differences at the right unit, tests, MDD and topics needed."""

import itertools
import json
import math
import random
from pathlib import Path

import pytest

import clir_bench
from clir_bench.evaluation.compare import mdd, randomisation_p, units_needed
from clir_bench.evaluation.judgments import from_track
from clir_bench.tracks.track import get_track

SUBS = Path(__file__).parents[2] / "submissions" / "noise-0.3"


def test_mdd_gives_the_stated_power_under_the_noncentral_t():
    stats = pytest.importorskip("scipy.stats")
    for sd, n in ((0.05, 14), (0.1, 50), (0.2, 300)):
        delta = mdd(sd, n)
        crit = stats.t.ppf(0.975, n - 1)
        nc = delta / (sd / math.sqrt(n))
        power = stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc)
        assert power == pytest.approx(0.8, abs=0.02), (sd, n, power)
    assert mdd(0.1, 10_000) == pytest.approx((1.959964 + 0.841621) * 0.1 / 100, rel=1e-3)  # normal limit


def test_units_needed_is_the_smallest_sufficient_count():
    for sd, delta in ((0.05, 0.01), (0.1, 0.02), (0.03, 0.05)):
        n = units_needed(sd, delta)
        assert mdd(sd, n) <= delta and (n == 2 or mdd(sd, n - 1) > delta)
    assert units_needed(1.0, 1e-6) is None  # beyond any collection


def test_randomisation_p_matches_exact_enumeration():
    rng = random.Random(4)
    d = [rng.gauss(0.03, 0.05) for _ in range(8)]
    observed = abs(sum(d) / len(d))
    exact = sum(abs(sum(s * x for s, x in zip(signs, d, strict=True)) / len(d)) >= observed - 1e-12
                for signs in itertools.product((-1, 1), repeat=len(d))) / 2 ** len(d)
    assert randomisation_p(d, flips=40_000, seed=1) == pytest.approx(exact, abs=0.01)


def _low_mean_units():
    """optical-sinkhorn - encoder-ft on noise-0.3 by `compare`, and the same recomputed from per-query
    AP: per unit (sorted), each low-resource language's mean over its queries on it, averaged."""
    judged = clir_bench.load_judgments(track="noise-0.3")
    a, b = (clir_bench.score(SUBS / n / "run.trec.gz", judgments=judged, resamples=0)
            for n in ("optical-sinkhorn", "encoder-ft"))
    rows = {r.group: r for r in clir_bench.compare(a, b, judgments=judged, resamples=200).rows}
    low = [lang for lang, c in judged.classes.items() if c == "low"]
    cells: dict = {}
    for q in judged.qrels:
        if judged.lang_of[q] in low:
            cells.setdefault(judged.topic(q), {}).setdefault(judged.lang_of[q], []).append(
                a.per_query[q]["map"] - b.per_query[q]["map"])
    return rows, [sum(sum(v) / len(v) for v in langs.values()) / len(langs) for _, langs in sorted(cells.items())]


def test_a_topic_row_is_the_mean_of_per_topic_differences():
    """The row is the mean over units of A - B, each unit's value the mean over its languages."""
    rows, per_unit = _low_mean_units()
    assert rows["low mean"].diff == pytest.approx(sum(per_unit) / len(per_unit), abs=1e-12)
    assert rows["low mean"].n == len(per_unit)


def test_compare_cli_on_reference_runs(cli):
    a, b = SUBS / "optical-sinkhorn" / "run.trec.gz", SUBS / "encoder-ft" / "run.trec.gz"
    code, output = cli("compare", a, b, "--track", "noise-0.3", "--json", "--bootstrap", "500")
    assert code == 0, output
    result = json.loads(output[output.index("{"):])
    rows = {r["group"]: r for r in result["rows"]}
    track = get_track("noise-0.3")
    assert list(rows) == [*track.languages, "mean", "low mean", "high mean", "gap"]
    judgments = from_track(track)
    asked = {}  # unit -> the classes that ask it: the UDHR paragraphs, not 14 x 50 queries
    for q in judgments.topic_of:
        asked.setdefault(judgments.topic(q), set()).add(track.languages[judgments.lang_of[q]])
    # 50 paragraphs; so and yo ask article 2 as one query (udhr-0200), whose best documents are
    # paragraphs udhr-0201 and udhr-0202: the three are one unit, asked by both classes
    assert "udhr-0200+udhr-0201+udhr-0202" in asked and len(asked) == 49
    assert all(classes == {"low", "high"} for classes in asked.values())
    assert rows["low mean"]["n"] == rows["high mean"]["n"] == rows["gap"]["n"] == 49
    assert rows["gap"]["unit"] == "topics"
    assert rows["gap"]["diff"] == pytest.approx(rows["high mean"]["diff"] - rows["low mean"]["diff"])
    for row in rows.values():  # one estimand: the estimate is A - B and the mean of the tested differences
        assert row["diff"] == pytest.approx(row["a"] - row["b"], abs=1e-12)
        assert row["ci"][0] <= row["diff"] <= row["ci"][1]
    holm = [r["p_t_holm"] for r in result["rows"] if r["p_t_holm"] is not None]
    assert all(h >= r["p_t"] for r in result["rows"] for h in [r["p_t_holm"]] if h is not None) and holm
    code, same = cli("compare", a, a, "--track", "noise-0.3", "--json", "--bootstrap", "500")
    rows = json.loads(same[same.index("{"):])["rows"]
    assert all(r["diff"] == 0 and r["p_t"] == 1.0 and r["mdd"] is None for r in rows)
    code, text = cli("compare", a, b, "--track", "noise-0.3", "--bootstrap", "500")
    assert code == 0 and "low mean" in text and "Holm" in text


def test_each_topic_row_carries_a_robustness_line():
    """A rank-based test and the verdict without the most influential unit, beside the t-test."""
    from scipy.stats import ttest_1samp, wilcoxon

    rows, d = _low_mean_units()
    assert rows["low mean"].p_wilcoxon == pytest.approx(wilcoxon(d).pvalue, rel=1e-9)
    top = max(range(len(d)), key=lambda i: abs(d[i]))
    rest = d[:top] + d[top + 1:]
    assert rows["low mean"].p_t_without_top == pytest.approx(ttest_1samp(rest, 0).pvalue, rel=1e-6)
