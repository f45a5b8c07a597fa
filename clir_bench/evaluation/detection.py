"""How well a per-pair signal detects the corrupted pairs of a noisy bitext.

ROC AUC is the probability that a corrupted pair scores above a clean one, ties counting
half (Mann-Whitney U / (n_pos n_neg); Hanley & McNeil 1982): 0.5 is chance, and a signal
that is constant (balanced OT's transported mass) scores exactly 0.5. Average precision
is the mean precision at each corrupted pair, pairs ranked by the signal, ties broken at
random (seeded): a constant signal then scores the share of corrupted pairs, its chance level. 95% percentile-bootstrap
intervals resample pairs with the numbers of corrupted and clean pairs fixed (stratified);
AUC's resamples are computed at once from the corrupted x clean comparison matrix. A
bitext without corrupted (or without clean) pairs has nothing to detect: None, reported as
"not applicable".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clir_bench.evaluation.report import Interval


@dataclass(frozen=True)
class Detection:
    auc: float | None
    auc_ci: Interval
    ap: float | None
    ap_ci: Interval
    corrupted: int
    clean: int
    base_rate: float | None  # the AP of a random ranking: corrupted / all

    def to_dict(self) -> dict:
        return {"auc": self.auc, "auc_ci": list(self.auc_ci), "ap": self.ap, "ap_ci": list(self.ap_ci),
                "corrupted": self.corrupted, "clean": self.clean, "base_rate": self.base_rate}


def roc_auc(scores, labels) -> float | None:
    """P(score of a corrupted pair > score of a clean pair), ties counting half."""
    import numpy as np
    from scipy.stats import rankdata

    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if not pos or not neg:
        return None
    ranks = rankdata(scores)  # average ranks for ties
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def average_precision(scores, labels, *, seed: int | None = 0) -> float | None:
    """Mean of the precision at the rank of each corrupted pair, ranked by descending score; ties
    broken by a seeded random order (`seed=None`: by input order)."""
    import numpy as np

    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=bool)
    if not labels.any():
        return None
    if seed is not None:
        shuffle = np.random.default_rng(seed).permutation(scores.size)
        scores, labels = scores[shuffle], labels[shuffle]
    order = np.argsort(-scores, kind="stable")
    hits = labels[order]
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float(precision[hits].mean())


def detect(scores: Sequence[float], labels: Sequence[bool], *, resamples: int = 1000, seed: int = 0) -> Detection:
    """AUC and AP of `scores` (higher = more likely corrupted) against `labels`, with intervals."""
    import numpy as np

    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=bool)
    pos, neg = np.flatnonzero(labels), np.flatnonzero(~labels)
    if not pos.size or not neg.size:
        return Detection(None, (None, None), None, (None, None), int(pos.size), int(neg.size), None)
    rng = np.random.default_rng(seed)
    sp, sn = scores[pos], scores[neg]
    wins = (sp[:, None] > sn[None, :]) + 0.5 * (sp[:, None] == sn[None, :])  # (corrupted, clean)
    cp = rng.multinomial(pos.size, np.full(pos.size, 1 / pos.size), size=resamples).astype(np.float64)
    cn = rng.multinomial(neg.size, np.full(neg.size, 1 / neg.size), size=resamples).astype(np.float64)
    aucs = ((cp @ wins) * cn).sum(1) / (pos.size * neg.size)
    aps = []
    for _ in range(min(resamples, 300)):
        idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        aps.append(average_precision(scores[idx], labels[idx], seed=int(rng.integers(1 << 31))))

    def ci(values) -> Interval:
        lo, hi = np.quantile(values, [0.025, 0.975])
        return float(lo), float(hi)

    return Detection(float(wins.mean()), ci(aucs), average_precision(scores, labels), ci(aps), int(pos.size),
                     int(neg.size), float(pos.size / labels.size))
