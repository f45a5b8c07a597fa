"""Detection of corrupted bitext pairs: AUC and AP against scipy/hand-worked values."""

import random

import pytest

from clir_bench.evaluation.noise_detection import average_precision, detect, roc_auc


def test_auc_is_mann_whitney_and_ap_is_hand_worked():
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(1)
    scores = [rng.random() for _ in range(200)] + [0.5] * 20
    labels = [rng.random() < 0.3 for _ in scores]
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    u = stats.mannwhitneyu(pos, neg).statistic
    assert roc_auc(scores, labels) == pytest.approx(u / (len(pos) * len(neg)))
    assert detect(scores, labels, resamples=200).auc == pytest.approx(u / (len(pos) * len(neg)))
    # ranked: c(1) x c(1) x c(1): precision 1, 2/3, 3/5 at the corrupted pairs
    assert average_precision([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 1]) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert average_precision([1, 1, 0], [0, 0, 1], seed=None) == pytest.approx(1 / 3)  # ties: input order


def test_a_constant_signal_is_chance_and_a_perfect_one_is_certain():
    constant = detect([1.0] * 300, [True] * 90 + [False] * 210, resamples=200)
    assert constant.auc == 0.5 and constant.auc_ci == (0.5, 0.5) and constant.base_rate == 0.3
    assert constant.ap_ci[0] <= constant.ap <= constant.ap_ci[1] and abs(constant.ap - 0.3) < 0.05  # chance
    perfect = detect(list(range(10)), [i >= 7 for i in range(10)], resamples=200)
    assert perfect.auc == 1.0 and perfect.ap == 1.0 and perfect.auc_ci == (1.0, 1.0)


def test_nothing_to_detect_on_clean_bitext():
    clean = detect([0.1, 0.2, 0.3], [False] * 3)
    assert clean.auc is None and clean.ap is None and clean.corrupted == 0


def test_each_bootstrap_resample_equals_scoring_that_resample_outright():
    np = pytest.importorskip("numpy")
    from clir_bench.evaluation import noise_detection as detection

    rng = np.random.default_rng(7)
    scores = rng.normal(size=80).round(1)  # ties between pairs, and between a pair's copies
    labels = rng.random(80) < 0.3
    pos, neg = np.flatnonzero(labels), np.flatnonzero(~labels)
    cp, cn = detection._draws(rng, 6, pos.size), detection._draws(rng, 6, neg.size)
    assert (cp.sum(1) == pos.size).all() and (cn.sum(1) == neg.size).all()
    aucs = detection._bootstrap_auc(scores[pos], scores[neg], cp, cn)
    distinct = scores + np.arange(80) * 1e-9  # AP's tie order is the seeded shuffle's; untie to compare
    aps = detection._bootstrap_ap(distinct, labels, pos, neg, cp, cn, seed=0)
    for r in range(6):
        idx = np.concatenate([np.repeat(pos, cp[r].astype(int)), np.repeat(neg, cn[r].astype(int))])
        assert aucs[r] == pytest.approx(roc_auc(scores[idx], labels[idx]), abs=1e-12)
        assert aps[r] == pytest.approx(average_precision(distinct[idx], labels[idx], seed=None), abs=1e-12)


def test_paired_comparison_sees_a_small_difference_that_unpaired_intervals_miss():
    np = pytest.importorskip("numpy")
    from clir_bench.evaluation.noise_detection import compare_detectors

    rng = np.random.default_rng(3)
    labels = rng.random(3000) < 0.1
    base = rng.normal(size=3000) + 1.2 * labels  # a shared, noisy view of each pair
    a = base + 0.15 * labels + 0.05 * rng.normal(size=3000)  # a slightly better detector of the same pairs
    b = base + 0.05 * rng.normal(size=3000)
    d = compare_detectors(a, b, labels, resamples=1000, seed=1)
    assert d.diff == pytest.approx(roc_auc(a, labels) - roc_auc(b, labels))
    assert 0 < d.ci[0] <= d.diff <= d.ci[1] and d.p < 0.01
    da, db = detect(a, labels, resamples=1000), detect(b, labels, resamples=1000)
    assert da.auc_ci[0] < db.auc_ci[1]  # the unpaired intervals overlap
    same = compare_detectors(a, a, labels, resamples=200)
    assert same.diff == 0 and same.ci == (0.0, 0.0) and same.p == 1.0
    assert compare_detectors(a[~labels], b[~labels], labels[~labels]).diff is None
    with pytest.raises(ValueError):
        compare_detectors(a, b[:-1], labels)
