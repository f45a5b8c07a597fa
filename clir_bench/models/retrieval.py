"""Dense retrieval with an encoder, and MAP of a dev split for early stopping and tuning."""

from __future__ import annotations

import torch

from clir_bench.collection import PairData


def dense_run(encoder, data: dict[str, PairData], *, query_model=None, doc_cache: dict | None = None,
              depth: int = 1000) -> dict[str, dict[str, float]]:
    """{qid: {docid: score}}: queries by `query_model` (default: the encoder's own model),
    documents by the encoder (the frozen teacher), cosine scores, top `depth` per query."""
    run: dict[str, dict[str, float]] = {}
    doc_cache = {} if doc_cache is None else doc_cache
    for pair in data.values():
        key = id(pair.docs)
        if key not in doc_cache:
            ids = list(pair.docs)
            doc_cache[key] = (ids, encoder.embed([pair.docs[d] for d in ids], "passage"))
        ids, docs = doc_cache[key]
        qids = list(pair.queries)
        queries = encoder.embed([pair.queries[q] for q in qids], "query", model=query_model)
        scores = queries @ docs.T
        top = torch.topk(scores, k=min(depth, len(ids)), dim=1)
        for q, vals, idx in zip(qids, top.values.tolist(), top.indices.tolist()):
            run[q] = {ids[i]: float(v) for v, i in zip(vals, idx)}
    return run


def map_by_language(run: dict, data: dict[str, PairData]) -> dict[str, float]:
    """Mean AP per language with pytrec_eval; absent queries score 0 (trec_eval -c)."""
    import pytrec_eval

    out = {}
    for lang, pair in data.items():
        qrels = {q: j for q, j in pair.qrels.items() if j}
        ev = pytrec_eval.RelevanceEvaluator(qrels, {"map"})
        res = ev.evaluate({q: run[q] for q in qrels if q in run})
        out[lang] = sum(res.get(q, {"map": 0.0})["map"] for q in qrels) / max(len(qrels), 1)
    return out


def per_query_ap(run: dict, data: dict[str, PairData]) -> dict[str, float]:
    import pytrec_eval

    qrels = {q: j for pair in data.values() for q, j in pair.qrels.items() if j}
    res = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate({q: run[q] for q in qrels if q in run})
    return {q: res.get(q, {"map": 0.0})["map"] for q in qrels}
