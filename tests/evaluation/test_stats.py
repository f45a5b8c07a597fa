"""Statistics: percentile bootstrap intervals, Holm's correction, the paired t-test."""

import random

import pytest

from clir_bench.evaluation.stats import (
    bootstrap_ci,
    format_p,
    holm,
    paired_t,
    shares_topics,
    topic_bootstrap_ci,
)


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


def test_topic_bootstrap_draws_a_topic_in_every_language_together():
    """Two languages whose scores move together topic by topic: resampling topics keeps the gap
    exactly constant, where resampling each language on its own invents spread."""
    rng = random.Random(5)
    topics = [f"t{i}" for i in range(30)]
    low = [rng.random() for _ in topics]
    high = [v + 0.1 for v in low]  # every topic 0.1 easier in the high language

    def gap(ms):
        return ms[0] - ms[1]

    shared = topic_bootstrap_ci([high, low], [topics, topics], gap, resamples=2000, seed=1)
    assert shared == pytest.approx((0.1, 0.1), abs=1e-12)
    apart = bootstrap_ci([high, low], gap, resamples=2000, seed=1)
    assert apart[1] - apart[0] > 0.1
    assert shares_topics([topics, topics]) and not shares_topics([["a", "b"], ["c"]])


def test_topic_bootstrap_of_one_sample_matches_scipy_and_falls_back_without_shared_topics():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = random.Random(8)
    a = [rng.random() ** 2 for _ in range(60)]
    labels = [f"q{i}" for i in range(60)]
    ref = scipy_stats.bootstrap((a,), lambda x, axis: x.mean(axis), n_resamples=20000, method="percentile",
                                random_state=2).confidence_interval
    # the same topic in two copies of the sample: a mean over both is the sample's mean
    ours = topic_bootstrap_ci([a, a], [labels, labels], lambda ms: (ms[0] + ms[1]) / 2, resamples=20000, seed=1)
    assert ours == pytest.approx((ref.low, ref.high), abs=0.01)
    disjoint = topic_bootstrap_ci([a, a], [labels, [f"r{i}" for i in range(60)]], lambda ms: ms[0], seed=3)
    assert disjoint == bootstrap_ci([a, a], lambda ms: ms[0], seed=3)


def test_udhr_queries_share_topics_across_languages():
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.tracks.track import get_track

    j = from_track(get_track("noise-0.3"))
    assert j.topic("sw-0101") == j.topic("de-0101") == "udhr-0101"
    from clir_bench.sources.udhr import load_pair

    dev = load_pair("so", "dev", 0)  # Somali's article 2 (a dev article in fold 0) aligns by article only
    assert {dev.topics[q] for q in dev.queries if q.startswith("so-02")} == {"udhr-0200"}


@pytest.mark.parametrize("n, r", [(1, 1), (5, 2), (14, 3), (30, 1), (9, 9)])
def test_expected_random_ap_matches_simulation(n, r):
    from clir_bench.evaluation.metrics import expected_random_ap

    rng = random.Random(n * 100 + r)
    total, trials = 0.0, 40_000
    for _ in range(trials):
        ranks = sorted(rng.sample(range(1, n + 1), r))
        total += sum((i + 1) / rank for i, rank in enumerate(ranks)) / r
    assert expected_random_ap(n, r) == pytest.approx(total / trials, abs=0.005)
    assert expected_random_ap(n, 0) == 0.0


def test_chance_map_of_the_embedded_track():
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.evaluation.metrics import chance_map
    from clir_bench.tracks.track import get_track

    chance = chance_map(from_track(get_track("noise-0.3")))
    assert list(chance) == list(get_track("noise-0.3").languages)
    assert all(0.08 < v < 0.25 for v in chance.values()), chance  # 28-36 documents, 1-3 relevant per query


def test_a_p_value_is_never_shown_on_the_wrong_side_of_alpha():
    assert [format_p(p) for p in (None, 0.0004, 0.0123, 0.3, 0.05)] == ["-", "<0.001", "0.012", "0.300", "0.050"]
    # a bootstrap p of 2 * 50 / 2001: three decimals would read 0.050, as if not significant
    assert format_p(2 * 50 / 2001) == "0.04998" and format_p(0.0504) == "0.050"
