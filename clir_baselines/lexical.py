"""Lexical baselines over the English documents: BM25 on the untranslated query, and
probabilistic structured queries (PSQ; Darwish & Oard 2003) with an IBM Model 1
translation table learned from the track's own noisy bitext (Brown et al. 1993)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable

from clir_bench.core.progress import counting
from clir_bench.systems import Context, SystemResult

TOKEN = re.compile(r"\w+", re.UNICODE)
# scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar): a \w+ run of them
# is a whole clause, so it is cut into overlapping character bigrams, the usual segmentation-free choice
UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
ORDER_WITHOUT_MATCH = "a seeded random order (sha256 of the query id)"


def tokenize(text: str) -> list[str]:
    """Lower-cased Unicode word tokens (diacritics kept: they carry meaning in Yoruba); text in a
    script without spaces becomes character bigrams (a lone character stays a unigram)."""
    out = []
    for token in TOKEN.findall(text.lower()):
        if len(token) > 1 and UNSPACED.search(token):
            out += [token[i:i + 2] for i in range(len(token) - 1)]
        else:
            out.append(token)
    return out


def ranked(scores, ids: list[str], depth: int, qid: str, unmatched: list[str],
           matched: int | None = None) -> dict[str, float]:
    """The `depth` best documents; a query that matches no document (every score 0) gets a seeded
    random order instead of trec_eval's docid tie-break, which is not chance on UDHR (docids follow
    the articles), and is counted in `unmatched`. `matched`: as `inverted_index.top`'s."""
    import hashlib

    import numpy as np

    from clir_baselines.inverted_index import top

    if scores.size and not scores.any():
        unmatched.append(qid)
        rng = np.random.default_rng(int(hashlib.sha256(qid.encode()).hexdigest()[:16], 16))
        scores, matched = rng.random(scores.size, dtype=np.float32) * np.float32(1e-3), None
    return top(scores, ids, depth, matched=matched)


def unmatched_info(unmatched: list[str]) -> dict:
    return {"queries without a matching term": len(unmatched), "their order": ORDER_WITHOUT_MATCH} if unmatched else {}


def _english_stemmer():
    import Stemmer

    return Stemmer.Stemmer("english").stemWords


def analysers(track) -> tuple[Callable, Callable, str]:
    """(query analyser, document analyser, name): English text is Snowball-stemmed where it is the
    document side (udhr: English documents, untranslated queries only lower-cased); with English
    queries against documents in the track's language (CIRAL, WikiCLIR) neither side is stemmed."""
    if track.collection.english_queries:
        return tokenize, tokenize, "lower+bigrams-unspaced"
    stem = _english_stemmer()
    return tokenize, lambda text: stem(tokenize(text)), "lower+bigrams-unspaced+snowball-en"


class BM25System:
    """BM25 (bm25s's Lucene variant, over a streaming index: clir_baselines.inverted_index) of the
    untranslated query; shared names, numbers and cognates are all it can match."""

    name = "bm25"
    description = "BM25 (Lucene variant as bm25s), untranslated queries"

    def run(self, track, ctx: Context) -> SystemResult:
        from clir_baselines.inverted_index import cached

        query_analyser, doc_analyser, analyser = analysers(track)
        run, unmatched = {}, []
        for lang, pair in track.data("test").items():
            with counting(f"BM25: indexing {lang} (2 passes)", enabled=ctx.progress) as progress:
                index = cached(pair.docs, doc_analyser, analyser, ctx.cache, progress=progress)
            for qid, text in pair.queries.items():
                scores, matched = index.bm25_matched(query_analyser(text))
                run[qid] = ranked(scores, index.ids, track.max_docs_per_query, qid, unmatched, matched=matched)
        return SystemResult(run, info=unmatched_info(unmatched))


def ibm1(pairs: list[tuple[list[str], list[str]]], *, iterations: int = 5) -> dict[str, dict[str, float]]:
    """IBM Model 1 by EM: t(e | f) for foreign tokens f and English tokens e (with NULL)."""
    t: dict[str, dict[str, float]] = defaultdict(dict)
    for f_tokens, e_tokens in pairs:  # uniform start over co-occurring English tokens
        for f in set(f_tokens) | {None}:
            for e in e_tokens:
                t[f][e] = 1.0
    for f in t:
        norm = len(t[f])
        for e in t[f]:
            t[f][e] = 1.0 / norm
    for _ in range(iterations):
        counts: dict[str, Counter] = defaultdict(Counter)
        for f_tokens, e_tokens in pairs:
            sources = f_tokens + [None]
            for e in e_tokens:
                z = sum(t[f].get(e, 0.0) for f in sources)
                if z <= 0:
                    continue
                for f in sources:
                    p = t[f].get(e, 0.0)
                    if p:
                        counts[f][e] += p / z
        t = defaultdict(dict)
        for f, row in counts.items():
            total = sum(row.values())
            t[f] = {e: c / total for e, c in row.items()}
    return t


class PSQSystem:
    """PSQ: each query term f stands for document-language terms e with weight t(e | f) from IBM
    Model 1 on the track's (noisy) bitext; BM25 over expected term and document frequencies,
    tf'(f, d) = sum_e t(e|f) tf(e, d), df'(f) = sum_e t(e|f) df(e) (Darwish & Oard 2003).
    Translations below 0.01 or beyond the top 10 are pruned and the rest renormalised. BM25's
    own parameters and formula (`psq_scores`): with an identity table PSQ is BM25. With
    English queries (CIRAL, WikiCLIR) the table is learnt the other way, t(f | e)."""

    name = "psq"
    description = "PSQ with an IBM Model 1 table from the track's noisy bitext, BM25 weights"
    top, floor = 10, 0.01

    def run(self, track, ctx: Context) -> SystemResult:
        from clir_baselines.inverted_index import cached

        query_analyser, doc_analyser, analyser = analysers(track)
        bitext, _ = track.noisy_bitext()
        english_queries = track.collection.english_queries
        run, unmatched = {}, []
        for lang, pair in track.data("test").items():
            sides = [(query_analyser(p.english if english_queries else p.text),
                      doc_analyser(p.text if english_queries else p.english)) for p in bitext.get(lang, [])]
            table = ibm1(sides)
            with counting(f"PSQ: indexing {lang} (2 passes)", enabled=ctx.progress) as progress:
                index = cached(pair.docs, doc_analyser, analyser, ctx.cache, progress=progress)
            for qid, text in pair.queries.items():
                translations = [self._translations(table.get(f), f, doc_analyser) for f in query_analyser(text)]
                run[qid] = ranked(psq_scores(index, translations), index.ids, track.max_docs_per_query, qid,
                                  unmatched)
        return SystemResult(run, info=unmatched_info(unmatched))

    def _translations(self, row, f, doc_analyser) -> dict[str, float]:
        if not row:  # unseen term: itself (names, numbers), as an untranslated query would
            same = doc_analyser(f)
            return {same[0]: 1.0} if same else {}
        kept = sorted(((p, e) for e, p in row.items() if p >= self.floor), reverse=True)[: self.top]
        total = sum(p for p, _ in kept) or 1.0
        return {e: p / total for p, e in kept}


def psq_scores(index, translations: list[dict[str, float]], *, k1: float | None = None, b: float | None = None):
    """PSQ-BM25 of every document: one {english term: t(e|f)} per query term, BM25 (as
    `InvertedIndex.bm25`, float32) over tf'(f, d) = sum_e t(e|f) tf(e, d) and df'(f) = sum_e t(e|f) df(e)."""
    import numpy as np

    from clir_baselines.inverted_index import K1, B

    k1, b = (K1 if k1 is None else k1), (B if b is None else b)
    scores = np.zeros(index.n, dtype=np.float32)
    if not index.n:
        return scores
    norm = np.float32(k1) * (np.float32(1 - b) + np.float32(b) * index.lengths.astype(np.float32)
                             / np.float32(index.lengths.mean()))
    for row in translations:
        dff = sum(p * index.df(e) for e, p in row.items())
        if dff <= 0:
            continue
        idf = np.float32(np.log(1 + (index.n - dff + 0.5) / (dff + 0.5)))
        tf = np.zeros(index.n, dtype=np.float32)
        for e, p in row.items():
            docs, counts = index.postings(e)
            tf[docs] += np.float32(p) * counts.astype(np.float32)
        hit = tf > 0
        scores[hit] += idf * (tf[hit] / (tf[hit] + norm[hit]))
    return scores
