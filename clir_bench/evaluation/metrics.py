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
MAX_CUTOFF = 100_000
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
    if int(k) > MAX_CUTOFF:
        raise ClirBenchError(f"metric {name!r}: found cutoff {int(k):,}, expected at most {MAX_CUTOFF:,} (a run ranks "
                             "at most 1,000 documents per query by default)")
    return Metric(name, f"{label}@{k}", f"{family}.{k}", f"{family}_{k}")


def expected_random_ap(n_docs: int, n_relevant: int) -> float | None:
    """Exact expected average precision of a uniformly random ranking of `n_docs` documents of
    which `n_relevant` are relevant (Bestgen 2015): the i-th relevant document lies at rank n
    with probability C(n-1, i-1) C(N-n, R-i) / C(N, R) and adds i/n to AP's sum. None past
    10,000 documents (a real collection: chance is then indistinguishable from 0)."""
    from math import comb

    n, r = n_docs, min(n_relevant, n_docs)
    if r <= 0:
        return 0.0
    if n > 10_000:
        return None
    total = comb(n, r)
    expected = 0.0
    for i in range(1, r + 1):
        for rank in range(i, n - r + i + 1):
            expected += comb(rank - 1, i - 1) * comb(n - rank, r - i) / total * i / rank
    return expected / r


def chance_map(judgments) -> dict[str, float | None]:
    """Per language, the MAP a random ranking of each query's documents is expected to score
    (relevance grade >= 1, as MAP counts it); None where the documents are not known or too many."""
    by_lang: dict[str, list[float | None]] = {}
    docs_of = judgments.spec.docs_of
    for q, judged in judgments.qrels.items():
        docs = docs_of.get(q) if docs_of is not None else None
        value = None if docs is None else expected_random_ap(len(docs), sum(g >= 1 for g in judged.values()))
        by_lang.setdefault(judgments.lang_of[q], []).append(value)
    return {lang: None if any(v is None for v in vs) else sum(vs) / len(vs) for lang, vs in by_lang.items()}


def ap_per_query(run: dict, data: dict) -> dict[str, float]:
    """AP (pytrec_eval's "map") of every judged query of `data` ({lang: an object with `.qrels`});
    a query the run lacks scores 0, as `trec_eval -c` counts it. What training's dev evaluation
    and experiments read; `clir-bench score` is the full, validated path."""
    import pytrec_eval

    qrels = {q: j for pair in data.values() for q, j in pair.qrels.items() if j}
    res = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate({q: run[q] for q in qrels if q in run})
    return {q: res.get(q, {"map": 0.0})["map"] for q in qrels}


def map_by_language(run: dict, data: dict) -> dict[str, float]:
    """MAP per language of `data` (`ap_per_query`'s rule for absent queries)."""
    ap = ap_per_query(run, data)
    out = {}
    for lang, pair in data.items():
        judged = [q for q, j in pair.qrels.items() if j]
        out[lang] = sum(ap[q] for q in judged) / max(len(judged), 1)
    return out
