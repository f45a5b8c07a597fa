"""Metrics by name, each mapped to the pytrec_eval (trec_eval) measure that computes it.

`map` (primary; binary relevance >= 1), `ndcg@k` (graded gains, trec_eval ndcg_cut.k),
`p@k`, `r@k` (recall at k) and `mrr` (reciprocal rank of the first relevant document).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.registry import did_you_mean


@dataclass(frozen=True)
class Metric:
    name: str  # as written in tracks and results: "map", "ndcg@10"
    label: str  # table header: "MAP", "nDCG@10"
    measure: str  # asked of pytrec_eval: "ndcg_cut.10"
    key: str  # returned by pytrec_eval: "ndcg_cut_10"


_FIXED = {
    "map": Metric("map", "MAP", "map", "map"),
    "mrr": Metric("mrr", "MRR", "recip_rank", "recip_rank"),
}
_CUTOFF = {  # prefix -> (label, trec_eval measure family)
    "ndcg": ("nDCG", "ndcg_cut"),
    "p": ("P", "P"),
    "r": ("R", "recall"),
}
DEFAULT_METRICS = ("map", "ndcg@10", "p@10", "r@100", "mrr")  # a track's metrics when it names none


def metric(name: str) -> Metric:
    """Resolve a metric name; `ndcg@k`, `p@k` and `r@k` take any cutoff k >= 1."""
    if name in _FIXED:
        return _FIXED[name]
    m = re.fullmatch(r"(ndcg|p|r)@([1-9][0-9]*)", name)
    if not m:
        raise ClirBenchError(
            f"unknown metric {name!r}.{did_you_mean(name, DEFAULT_METRICS)} "
            "Known: map, mrr, ndcg@k, p@k, r@k (k a positive integer)"
        )
    label, family = _CUTOFF[m[1]]
    k = m[2]
    return Metric(name, f"{label}@{k}", f"{family}.{k}", f"{family}_{k}")
