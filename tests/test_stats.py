"""Statistics: percentile bootstrap intervals, Holm's correction, the paired t-test."""

import random

import pytest

from clir_bench.evaluation.stats import bootstrap_ci, holm, paired_t


def test_bootstrap_matches_scipy_percentile_interval():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = random.Random(3)
    a = [rng.random() ** 2 for _ in range(60)]
    b = [rng.random() for _ in range(45)]
    ours = bootstrap_ci([a, b], lambda ms: ms[0] - ms[1], resamples=20000, seed=1)
    ref = scipy_stats.bootstrap((a, b), lambda x, y, axis: x.mean(axis) - y.mean(axis), n_resamples=20000,
                                method="percentile", random_state=2).confidence_interval
    assert ours[0] == pytest.approx(ref.low, abs=0.01)
    assert ours[1] == pytest.approx(ref.high, abs=0.01)


def test_holm_and_paired_t():
    from scipy.stats import ttest_rel

    adjusted = holm([0.01, 0.04, 0.03, None, 0.5])  # 4 tests: 4 x 0.01, 3 x 0.03, max(0.09, 2 x 0.04), 1 x 0.5
    assert adjusted[3] is None
    assert [adjusted[i] for i in (0, 2, 1, 4)] == pytest.approx([0.04, 0.09, 0.09, 0.5])
    rng = __import__("random").Random(3)
    for n in (2, 5, 14, 98):
        a, b = [rng.random() for _ in range(n)], [rng.random() for _ in range(n)]
        ref = ttest_rel(a, b)
        assert paired_t(a, b)["p"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert paired_t(a, b)["t"] == pytest.approx(ref.statistic, rel=1e-9)
    assert paired_t(a, a)["p"] == 1.0 and paired_t([1, 1], [0, 0])["p"] == 0.0
    assert paired_t([0.5], [0.1])["p"] is None
