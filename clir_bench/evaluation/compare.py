"""Compare two scored runs at the right unit: per language over its queries; for the mean over
every language, the low mean, the high mean and the gap over *topics* (a UDHR paragraph asked
in every language is one unit).

For each row: the difference A - B, a 95% bootstrap interval of the mean paired difference,
a two-sided paired t-test (Smucker, Allan & Carterette, CIKM 2007) and a paired randomisation
(sign-flip) test, both Holm-corrected over the family of rows (Holm 1979); the minimum
detectable difference at alpha 0.05 and power 0.8 and the units needed to detect 0.01, 0.02
and 0.05, from the paired t-test's power with the observed SD of the differences
(t approximation; topic-set size design, Sakai 2016, IRJ 19(3)).

One estimand per row, for the estimate, the interval, the tests and the MDD alike. A language's
row: the mean over its queries of the per-query difference A - B (its A and B: the language's
means). A topic row: the mean over topics of the per-topic difference d_t, where a run's value
on topic t is the mean over the row's languages that ask t of that language's mean over its
queries on t (for the gap: the high value minus the low value, topics asked in both classes);
A and B are each run's mean over the same topics, so A - B is exactly the mean of the d_t. That
weighs every topic equally, so it differs slightly from the difference of the two reports' macro
means over languages (a language's mean weighs each of its queries, and languages ask different
numbers of topics); `clir-bench score` reports those macro means.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

from clir_bench.core.errors import ClirBenchError
from clir_bench.evaluation.judgments import Judgments
from clir_bench.evaluation.report import Interval, ScoreReport, clean, interval
from clir_bench.evaluation.stats import ALPHA, bootstrap_ci, holm, paired_t

POWER = 0.8
ESTIMAND = ("a language's row: the mean over its queries of A - B; the mean, low mean, high mean and gap rows: the "
            "mean over topics of A - B, a topic's value the mean over its languages of their mean on it (topics "
            "that share their best documents form one unit)")
TARGETS = (0.01, 0.02, 0.05)
FLIPS = 10_000
MAX_UNITS = 100_000


@dataclass(frozen=True)
class Difference:
    group: str  # a language code, "mean" (over every language), "low mean", "high mean" or "gap"
    unit: str  # "queries" or "topics"
    a: float | None
    b: float | None
    diff: float | None
    n: int
    ci: Interval
    sd: float | None
    t: float | None
    p_t: float | None
    p_randomisation: float | None
    mdd: float | None
    needed: dict[str, int | None]  # target difference -> units needed at ALPHA and POWER
    p_t_holm: float | None = None
    p_randomisation_holm: float | None = None
    # robustness (topic-level rows): a rank-based test, and the t-test without the unit of the largest |difference|
    p_wilcoxon: float | None = None
    p_t_without_top: float | None = None

    @property
    def significant(self) -> bool:
        return self.p_t_holm is not None and self.p_t_holm < ALPHA


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    metric: str
    rows: list[Difference] = field(default_factory=list)
    alpha: float = ALPHA
    power: float = POWER
    provenance: dict = field(default_factory=dict)  # what was compared: the judgments and each run's sha256
    warnings: list[str] = field(default_factory=list)  # each run's `score` warnings: read them before the rows

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "metric": self.metric, "alpha": self.alpha, "power": self.power,
                "provenance": self.provenance, "warnings": self.warnings,
                "tests": "two-sided paired t and paired randomisation (sign flips), Holm over the rows",
                "estimand": ESTIMAND,
                "rows": [{**vars(r), "ci": list(r.ci), "needed": dict(r.needed), "significant": r.significant}
                         for r in self.rows]}  # the fields hold numbers only: no deep copy (asdict's) needed


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: int) -> float:
    from scipy.special import stdtrit

    return float(stdtrit(df, p))


def mdd(sd: float, n: int, *, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Smallest true mean difference a paired t-test on n units detects with `power`:
    (t_{1-alpha/2, n-1} + t_{power, n-1}) sd / sqrt(n)."""
    if n < 2 or sd is None:
        return None
    return (t_quantile(1 - alpha / 2, n - 1) + t_quantile(power, n - 1)) * sd / math.sqrt(n)


def units_needed(sd: float, delta: float, *, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """The fewest units whose MDD is at most `delta` (None beyond MAX_UNITS)."""
    if sd is None:
        return None
    if sd <= 1e-12:
        return 2
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    n = max(2, math.ceil((z * sd / delta) ** 2))  # the normal approximation; the t's is a little larger
    if n > MAX_UNITS:
        return None
    while mdd(sd, n, alpha=alpha, power=power) > delta:  # mdd decreases with n: a few steps up
        n += 1
        if n > MAX_UNITS:
            return None
    while n > 2 and mdd(sd, n - 1, alpha=alpha, power=power) <= delta:
        n -= 1
    return n


def randomisation_p(d, *, flips: int = FLIPS, seed: int = 0) -> float | None:
    """Two-sided paired randomisation test: random sign flips of the differences (Fisher 1935)."""
    import numpy as np

    d = np.asarray(d, dtype=np.float64)
    if d.size < 2:
        return None
    observed = abs(d.mean())
    hits = sum(int((np.abs(signs @ d / d.size) >= observed - 1e-12).sum())
               for signs in _sign_blocks(seed, d.size, flips))
    return (hits + 1) / (flips + 1)


def _sign_blocks(seed: int, n: int, flips: int):
    """The sign flips for `seed`, in blocks of 2,000 draws of n signs; memoised where small (a board
    tests every pair of runs on the same languages and topics, so the same n and seed recur)."""
    if flips * n <= MEMO_SIGNS:
        return [block.astype(float) for block in _memo_signs(seed, n, flips)]
    return _draw_signs(seed, n, flips)


def _draw_signs(seed: int, n: int, flips: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    for lo in range(0, flips, 2000):
        yield rng.choice((-1.0, 1.0), size=(min(2000, flips - lo), n))


MEMO_SIGNS = 1 << 22  # signs kept per (seed, n, flips), as int8: 4 MB at most


@functools.lru_cache(maxsize=48)
def _memo_signs(seed: int, n: int, flips: int) -> tuple:
    import numpy as np

    return tuple(block.astype(np.int8) for block in _draw_signs(seed, n, flips))


def _row(group: str, unit: str, a: float | None, b: float | None, d: list[float], *, resamples: int,
         seed: int, flips: int = FLIPS) -> Difference:
    import numpy as np

    test = paired_t(d, [0.0] * len(d))
    sd = float(np.std(d, ddof=1)) if len(d) > 1 else None
    if sd is not None and sd <= 1e-12:
        sd = None  # identical on every unit: no variance to plan from
    ci = interval(bootstrap_ci([d], lambda ms: ms[0], resamples=resamples, seed=seed)) if d else (None, None)
    return Difference(group=group, unit=unit, a=a, b=b, diff=float(np.mean(d)) if d else None, n=len(d),
                      ci=ci, sd=sd, t=clean(test["t"]), p_t=test["p"],
                      p_randomisation=randomisation_p(d, flips=flips, seed=seed),
                      mdd=mdd(sd, len(d)) if sd is not None else None,
                      needed={f"{x:g}": units_needed(sd, x) if sd is not None else None for x in TARGETS},
                      # robustness of the verdicts the question rests on (the topic-level rows) only
                      p_wilcoxon=wilcoxon_p(d) if unit == "topics" else None,
                      p_t_without_top=_without_top(d) if unit == "topics" else None)


def wilcoxon_p(d) -> float | None:
    """Two-sided Wilcoxon signed-rank test (scipy; zero differences dropped, Pratt's rule not used):
    a verdict that holds only in the mean, not in the ranks, rests on a few units."""
    import numpy as np
    from scipy.stats import wilcoxon

    d = np.asarray(d, dtype=np.float64)
    if np.count_nonzero(np.abs(d) > 1e-12) < 2:
        return None
    return clean(float(wilcoxon(d, zero_method="wilcox").pvalue))


def _without_top(d) -> float | None:
    """The paired t-test's p without the unit whose difference is largest in size."""
    import numpy as np

    d = np.asarray(d, dtype=np.float64)
    if d.size < 3:
        return None
    kept = np.delete(d, int(np.argmax(np.abs(d))))
    return paired_t(kept, np.zeros_like(kept))["p"]


def compare(a: ScoreReport, b: ScoreReport, judgments: Judgments, *, names: tuple[str, str] = ("A", "B"),
            metric: str | None = None, resamples: int = 10_000, seed: int = 0, flips: int = FLIPS,
            only: set[str] | None = None) -> Comparison:
    """Paired comparison of two reports scored against the same judgments; `only` keeps those
    rows (e.g. {"low mean", "gap"}), so that Holm corrects over that family alone."""
    import numpy as np

    metric = metric or a.primary
    if a.provenance.get("split", "test") != b.provenance.get("split", "test"):
        raise ClirBenchError("one run was scored on the dev split and the other on test; score both on one split")
    if a.provenance.get("qrels_sha256") != b.provenance.get("qrels_sha256"):
        raise ClirBenchError("the two runs were scored against different qrels; score both against one track")
    if metric not in a.metrics or metric not in b.metrics:
        raise ClirBenchError(f"metric {metric!r} is not in both reports ({', '.join(a.metrics)})")
    by_lang: dict[str, list[str]] = {}
    for q in judgments.qrels:
        by_lang.setdefault(judgments.lang_of[q], []).append(q)
    pending = []  # (group, unit, a, b, paired differences)
    units = sorted({judgments.topic(q) for lang in a.languages for q in by_lang.get(lang, [])})
    index = {u: i for i, u in enumerate(units)}
    per_topic = {}  # language -> (asks the topic, A's mean on it, B's), over `units`
    for lang, row in a.languages.items():
        qids = by_lang.get(lang, [])
        xs = np.array([a.per_query[q][metric] for q in qids], dtype=np.float64)
        ys = np.array([b.per_query[q][metric] for q in qids], dtype=np.float64)
        pending.append((lang, "queries", row.mean[metric], b.languages[lang].mean[metric], (xs - ys).tolist()))
        at = np.array([index[judgments.topic(q)] for q in qids], dtype=np.intp)
        n = np.bincount(at, minlength=len(units))
        per_topic[lang] = (n > 0, np.bincount(at, xs, len(units)) / np.maximum(n, 1),
                           np.bincount(at, ys, len(units)) / np.maximum(n, 1))

    def topic_values(langs) -> dict[str, tuple[float, float]]:
        """Per topic, each run's mean over `langs` of the language's mean on that topic (summed in the
        order of `langs`)."""
        sums, count = np.zeros((2, len(units))), np.zeros(len(units))
        for lang in langs:
            if lang in per_topic:
                asks, x, y = per_topic[lang]
                sums[0, asks] += x[asks]
                sums[1, asks] += y[asks]
                count += asks
        kept = np.flatnonzero(count)
        means = (sums[:, kept] / count[kept]).tolist()
        return {units[k]: (x, y) for k, x, y in zip(kept.tolist(), *means, strict=True)}

    def topic_row(group: str, values: dict[str, tuple[float, float]]):
        xs, ys = [x for x, _ in values.values()], [y for _, y in values.values()]
        mean_of = (lambda v: sum(v) / len(v)) if values else (lambda v: None)
        return group, "topics", mean_of(xs), mean_of(ys), [x - y for x, y in zip(xs, ys, strict=True)]

    pending.append(topic_row("mean", topic_values(a.languages)))
    if a.summary is not None and b.summary is not None:
        by_class = {c: topic_values([lang for lang, k in judgments.classes.items() if k == c]) for c in ("low", "high")}
        pending.append(topic_row("low mean", by_class["low"]))
        pending.append(topic_row("high mean", by_class["high"]))
        both = sorted(set(by_class["low"]) & set(by_class["high"]))
        pending.append(topic_row("gap", {t: (by_class["high"][t][0] - by_class["low"][t][0],
                                             by_class["high"][t][1] - by_class["low"][t][1]) for t in both}))
    rows = [_row(group, unit, x, y, d, resamples=resamples, seed=seed + i, flips=flips)
            for i, (group, unit, x, y, d) in enumerate(pending) if only is None or group in only]
    adjusted_t = holm([r.p_t for r in rows])
    adjusted_r = holm([r.p_randomisation for r in rows])
    rows = [Difference(**{**r.__dict__, "p_t_holm": pt, "p_randomisation_holm": pr})
            for r, pt, pr in zip(rows, adjusted_t, adjusted_r, strict=True)]
    keep = ("track", "track_version", "split", "collection", "qrels_sha256", "bitext_sha256", "harness", "pytrec_eval")
    provenance = {**{k: a.provenance[k] for k in keep if k in a.provenance},
                  "a_sha256": a.run.sha256, "b_sha256": b.run.sha256}
    return Comparison(a=names[0], b=names[1], metric=metric, rows=rows, provenance=provenance,
                      warnings=[*a.warnings, *b.warnings])
