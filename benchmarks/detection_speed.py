"""The bootstrap of a noise diagnosis (`clir-bench diagnose` with stored signals), against what
a researcher would otherwise write: scikit-learn's `roc_auc_score` and `average_precision_score`
called once per resample.

Synthetic signals of a noise-0.3 diagnosis's shape: 7,172 training pairs (2,161 corrupted), in
14 languages of ~512 pairs; a detector row is one signal of one model over all pairs or one
language's, 1,000 resamples (AUC and AP intervals); a paired test is two signals over all
pairs, 2,000 resamples. Continuous scores (no ties), so every tool must agree on AUC and AP
(their bootstrap intervals differ as the draws do).

  1. one signal's 15 rows (all pairs + 14 languages; 200 resamples, as scikit-learn takes ~14 ms
     a resample of 7,172 pairs): scikit-learn per resample, and clir-bench's `detect` (one sort
     per row, every resample from running counts);
  2. the whole diagnosis (35 signals of 5 systems x 2 models, each in 15 rows, + 15 paired tests:
     what noise-0.3 computes): clir-bench in one process and on every core
     (`clir_bench.core.parallel`).

    python benchmarks/detection_speed.py [--resamples 1000] [--resamples-1 200]
"""

from __future__ import annotations

import argparse
import functools

import numpy as np
from timing import timed

from clir_bench.core.parallel import call, pmap, usable_cores
from clir_bench.evaluation.noise_detection import average_precision, compare_detectors, detect, roc_auc

PAIRS, CORRUPTED, LANGUAGES = 7172, 2161, 14
SIGNALS, TESTS = 35, 15  # noise-0.3's non-constant signals (trained and step 0) and paired tests


def groups(rng) -> tuple[np.ndarray, list[np.ndarray]]:
    labels = np.zeros(PAIRS, dtype=bool)
    labels[rng.choice(PAIRS, CORRUPTED, replace=False)] = True
    lang = rng.integers(0, LANGUAGES, PAIRS)
    return labels, [np.arange(PAIRS)] + [np.flatnonzero(lang == k) for k in range(LANGUAGES)]


def signal(rng, labels) -> np.ndarray:
    return rng.normal(size=labels.size) + 2.5 * labels  # AUC ~0.96: a detector like the ones measured


def sklearn_row(scores, labels, resamples: int, seed: int) -> tuple[float, float, tuple, tuple]:
    """The plain loop: stratified resamples, each scored by scikit-learn from scratch."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(labels), np.flatnonzero(~labels)
    aucs, aps = [], []
    for _ in range(resamples):
        idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        aucs.append(roc_auc_score(labels[idx], scores[idx]))
        aps.append(average_precision_score(labels[idx], scores[idx]))
    return (roc_auc_score(labels, scores), average_precision_score(labels, scores),
            tuple(np.quantile(aucs, [0.025, 0.975])), tuple(np.quantile(aps, [0.025, 0.975])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resamples", type=int, default=1000, help="per row of the whole diagnosis (part 2)")
    ap.add_argument("--resamples-1", type=int, default=200,
                    help="per row in part 1 (scikit-learn takes ~14 ms a resample of 7,172 pairs)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    labels, rows = groups(rng)
    scores = signal(rng, labels)

    # 1. one signal's rows, both ways
    n = args.resamples_1
    sk_s, sk = timed(lambda: [sklearn_row(scores[g], labels[g], n, i) for i, g in enumerate(rows)])
    cb_s, cb = timed(lambda: [detect(scores[g], labels[g], resamples=n, seed=i) for i, g in enumerate(rows)])
    for (auc, ap_, _auc_ci, _), d, g in zip(sk, cb, rows, strict=True):
        assert abs(auc - d.auc) < 1e-12 and abs(ap_ - d.ap) < 1e-12, "the tools disagree"
        assert abs(auc - roc_auc(scores[g], labels[g])) < 1e-12
        assert abs(ap_ - average_precision(scores[g], labels[g])) < 1e-12
    widths = [(s[2][1] - s[2][0], d.auc_ci[1] - d.auc_ci[0]) for s, d in zip(sk, cb, strict=True)]
    print(f"one signal, {len(rows)} rows ({PAIRS:,} pairs + {LANGUAGES} languages), {n} resamples")
    print(f"  scikit-learn per resample  {sk_s:7.2f} s")
    print(f"  clir-bench detect          {cb_s:7.2f} s   {sk_s / cb_s:5.1f}x faster   "
          f"(AUC and AP equal; interval widths {widths[0][0]:.4f} vs {widths[0][1]:.4f} on all pairs)")

    # 2. a whole diagnosis: every row and paired test
    jobs = []
    for k in range(SIGNALS):
        s = signal(rng, labels)
        jobs += [functools.partial(detect, s[g], labels[g], resamples=args.resamples, seed=k * 100 + i)
                 for i, g in enumerate(rows)]
    jobs += [functools.partial(compare_detectors, signal(rng, labels), signal(rng, labels), labels,
                               resamples=2 * args.resamples, seed=t) for t in range(TESTS)]
    serial_s, serial = timed(lambda: [job() for job in jobs])
    cores = usable_cores()
    par_s, par = timed(lambda: pmap(call, jobs, workers=cores, cost=lambda job: len(job.args[0])))
    assert [r.to_dict() for r in serial] == [r.to_dict() for r in par], "parallel results differ"
    print(f"a noise-0.3 diagnosis: {len(jobs) - TESTS} rows, {args.resamples} resamples, + {TESTS} paired tests")
    print(f"  clir-bench, one process    {serial_s:7.2f} s")
    print(f"  clir-bench, {cores} processes    {par_s:7.2f} s   {serial_s / par_s:5.1f}x   (same numbers)")
    print(f"  scikit-learn per resample  ~{sk_s / cb_s * serial_s / 60:5.0f} min, one process "
          "(extrapolated with part 1's ratio, not run)")


if __name__ == "__main__":
    main()
