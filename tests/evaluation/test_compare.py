"""`clir-bench compare`: paired differences at the right unit, tests, MDD and topics needed."""

import itertools
import json
import math
import random
from pathlib import Path

import pytest

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


def test_compare_cli_on_reference_runs(cli):
    a, b = SUBS / "optical-sinkhorn" / "run.trec.gz", SUBS / "encoder-ft" / "run.trec.gz"
    code, output = cli("compare", a, b, "--track", "noise-0.3", "--json", "--bootstrap", "500")
    assert code == 0, output
    result = json.loads(output[output.index("{"):])
    rows = {r["group"]: r for r in result["rows"]}
    track = get_track("noise-0.3")
    assert list(rows) == [*track.languages, "mean", "low mean", "high mean", "gap"]
    judgments = from_track(track)
    asked = {}  # topic -> the classes that ask it: the UDHR paragraphs, not 14 x 50 queries
    for q, t in judgments.topic_of.items():
        asked.setdefault(t, set()).add(track.languages[judgments.lang_of[q]])
    both = [t for t, classes in asked.items() if classes == {"low", "high"}]
    assert rows["low mean"]["n"] == sum("low" in c for c in asked.values()) == 51  # + article 2 of so and yo
    assert rows["gap"]["unit"] == "topics" and rows["gap"]["n"] == len(both) == 50
    assert rows["gap"]["diff"] == pytest.approx(rows["high mean"]["diff"] - rows["low mean"]["diff"])
    holm = [r["p_t_holm"] for r in result["rows"] if r["p_t_holm"] is not None]
    assert all(h >= r["p_t"] for r in result["rows"] for h in [r["p_t_holm"]] if h is not None) and holm
    code, same = cli("compare", a, a, "--track", "noise-0.3", "--json", "--bootstrap", "500")
    rows = json.loads(same[same.index("{"):])["rows"]
    assert all(r["diff"] == 0 and r["p_t"] == 1.0 and r["mdd"] is None for r in rows)
    code, text = cli("compare", a, b, "--track", "noise-0.3", "--bootstrap", "500")
    assert code == 0 and "low mean" in text and "Holm" in text
