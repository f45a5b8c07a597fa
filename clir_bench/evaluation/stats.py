"""Percentile bootstrap confidence intervals (Efron & Tibshirani 1993, ch. 13).

Two designs. `bootstrap_ci` resamples each sample independently (stratified: a language's
interval resamples its own queries; languages with disjoint queries are independent).
`topic_bootstrap_ci` resamples *topics*: where the languages query the same topics (UDHR
paragraphs), a topic's queries in every language are one unit, drawn together, so the
correlation between languages stays in the interval of a cross-language statistic (the
gap). Written with NumPy because `scipy.stats` takes 0.7 s to import, which `clir-bench
score` would pay on every call; tests check the intervals against
`scipy.stats.bootstrap(method="percentile")`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

CHUNK = 1 << 22  # resampled values held at once


def mean(values) -> float | None:
    """The arithmetic mean of the values that are not None; None where there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def bootstrap_ci(samples: Sequence[Sequence[float]], statistic: Callable, *, resamples: int = 10_000,
                 confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile CI of `statistic(means)`, where `means[i]` are bootstrap means of `samples[i]`.

    `statistic` maps a list of arrays of resampled means (one per sample, shape (B,)) to an
    array of shape (B,), or to a dict of such arrays, which gives a dict of intervals from
    the same resamples. Empty samples keep a mean of NaN.
    """
    import numpy as np

    values = statistic(_resampled_means([np.asarray(s, dtype=np.float64) for s in samples], resamples, seed))
    if isinstance(values, dict):
        return {name: _percentiles(v, confidence) for name, v in values.items()}
    return _percentiles(values, confidence)


MEMO = 1 << 20  # resample counts memoised per (seed, n, resamples): 8 MB at most


@functools.lru_cache(maxsize=24)
def _resample_counts(seed: int, n: int, resamples: int):
    """How often each of the n values is drawn in each of the `resamples` draws `bootstrap_ci` makes
    for one sample with `seed` (read-only): a resample's mean is then a row of counts @ values / n,
    one matrix-vector product instead of gathering resamples x n values."""
    import numpy as np

    drawn = np.random.default_rng(seed).integers(0, n, size=(resamples, n), dtype=np.int32)
    flat = drawn + (np.arange(resamples, dtype=np.int64) * n)[:, None]
    out = np.bincount(flat.ravel(), minlength=resamples * n).reshape(resamples, n).astype(np.float64)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=4)
def _topic_draws(seed: int, n_topics: int, resamples: int):
    """The multinomial topic counts `topic_bootstrap_ci` draws for `seed` (read-only): every run scored
    with one seed against one track draws the same counts, and drawing them is most of the interval's
    cost (46 of 70 ms), so a leaderboard build draws them once per process."""
    import numpy as np

    rng = np.random.default_rng(seed)  # one block: at most CHUNK values (32 MB)
    out = rng.multinomial(n_topics, np.full(n_topics, 1 / n_topics), size=resamples).astype(np.float64)
    out.flags.writeable = False
    return out


def _resampled_means(arrays, resamples: int, seed: int) -> list:
    """Per sample, the means of `resamples` draws with replacement (NaN for an empty sample), all
    from one generator seeded `seed`, in blocks of at most CHUNK values."""
    import numpy as np

    if len(arrays) == 1 and 0 < arrays[0].size and resamples * arrays[0].size <= MEMO:
        # one small sample (a language's queries, a comparison's topics): the draws for this seed and
        # size are memoised, so the hundreds of runs a leaderboard build scores draw them once
        return [_resample_counts(seed, arrays[0].size, resamples) @ arrays[0] / arrays[0].size]
    rng = np.random.default_rng(seed)
    means = []
    for a in arrays:
        if a.size == 0:
            means.append(np.full(resamples, np.nan))
            continue
        out = np.empty(resamples)
        step = max(1, CHUNK // a.size)
        for lo in range(0, resamples, step):
            hi = min(resamples, lo + step)
            out[lo:hi] = a[rng.integers(0, a.size, size=(hi - lo, a.size), dtype=np.int32)].mean(axis=1)
        means.append(out)
    return means


def shares_topics(topics: Sequence[Sequence[str]]) -> bool:
    """True when some topic appears in more than one sample (then samples are not independent)."""
    seen: dict[str, int] = {}
    for i, labels in enumerate(topics):
        for topic in labels:
            if seen.setdefault(topic, i) != i:
                return True
    return False


def topic_bootstrap_ci(samples: Sequence[Sequence[float]], topics: Sequence[Sequence[str]], statistic: Callable, *,
                       resamples: int = 10_000, confidence: float = 0.95, seed: int = 0):
    """Percentile CI of `statistic(means)` where whole topics are resampled across the samples.

    `topics[i][j]` is the topic of `samples[i][j]`. Each resample draws the union's T topics
    with replacement (multinomial counts c_t); sample i's mean is sum_t c_t S_it / sum_t c_t N_it
    (S: sum of its values on topic t, N: how many). Where no topic is shared between samples,
    this is the stratified `bootstrap_ci` (each sample resampled on its own), used instead.
    """
    import numpy as np

    if not shares_topics(topics):
        return bootstrap_ci(samples, statistic, resamples=resamples, confidence=confidence, seed=seed)
    index = {topic: k for k, topic in enumerate(sorted({t for labels in topics for t in labels}))}
    n_topics, k = len(index), len(samples)
    sums, counts = np.zeros((k, n_topics)), np.zeros((k, n_topics))
    for i, (values, labels) in enumerate(zip(samples, topics, strict=True)):
        for v, topic in zip(values, labels, strict=True):
            sums[i, index[topic]] += v
            counts[i, index[topic]] += 1
    means = [np.empty(resamples) for _ in range(k)]
    step = max(1, CHUNK // n_topics)
    rng = np.random.default_rng(seed) if resamples > step else None  # small: the memoised draws, one block
    for lo in range(0, resamples, step):
        hi = min(resamples, lo + step)
        drawn = (_topic_draws(seed, n_topics, resamples) if rng is None else
                 rng.multinomial(n_topics, np.full(n_topics, 1 / n_topics), size=hi - lo).astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            block = (drawn @ sums.T) / (drawn @ counts.T)  # (draws, samples); NaN where a sample drew nothing
        for i in range(k):
            means[i][lo:hi] = block[:, i]
    values = statistic(means)
    if isinstance(values, dict):
        return {name: _percentiles(v, confidence) for name, v in values.items()}
    return _percentiles(values, confidence)


def _percentiles(values, confidence: float) -> tuple[float, float]:
    import numpy as np

    values = np.asarray(values)
    values = values[np.isfinite(values)]  # e.g. a relative gap whose resampled high mean is 0
    if values.size == 0:
        return math.nan, math.nan
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi)


ALPHA = 0.05


def format_p(p: float | None) -> str:
    """A p-value as a reader wants it: three decimals, "<0.001" below that, and more (up to six)
    where three would show it on the other side of ALPHA: 0.049975 reads 0.04998, never 0.050."""
    if p is None:
        return "-"
    if p < 0.001:
        return "<0.001"
    for digits in (3, 4, 5, 6):
        text = f"{p:.{digits}f}"
        if (float(text) < ALPHA) == (p < ALPHA):
            return text
    return f"{p:.6g}"


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (Holm 1979): p_(i) * (m - i + 1), made monotone, capped at 1.

    None (a test that could not be made) stays None and does not count towards m.
    """
    order = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    adjusted: list[float | None] = [None] * len(pvalues)
    running, m = 0.0, len(order)
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def paired_t(a: Sequence[float], b: Sequence[float]) -> dict:
    """Two-sided paired t-test of per-query scores, as used for IR runs by Smucker, Allan &
    Carterette (CIKM 2007): t = mean(d) / (sd(d) / sqrt(n)) on n - 1 degrees of freedom, d = a - b.

    The p-value comes from scipy.special.stdtr (the t CDF) rather than scipy.stats.ttest_rel,
    which gives the same value (tested) at a hundredth of the cost per call. Identical runs
    give p = 1; a constant non-zero difference gives p = 0; fewer than 2 queries give no test.
    """
    import numpy as np

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    out = {"n": int(d.size), "mean_diff": float(d.mean()) if d.size else None, "t": None, "p": None}
    if d.size < 2:
        return out
    sd = float(d.std(ddof=1))
    if sd <= 1e-12:
        out["p"] = 1.0 if abs(out["mean_diff"]) <= 1e-12 else 0.0
        return out
    from scipy.special import stdtr

    t = out["mean_diff"] / (sd / math.sqrt(d.size))
    out["t"], out["p"] = t, float(2 * stdtr(d.size - 1, -abs(t)))
    return out
