"""Lexical baselines over the English documents: BM25 on the untranslated query, and
probabilistic structured queries (PSQ; Darwish & Oard 2003) with an IBM Model 1
translation table learned from the track's own noisy bitext (Brown et al. 1993)."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

from clir_bench.systems import Context, SystemResult

TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased Unicode word tokens (diacritics kept: they carry meaning in Yoruba)."""
    return TOKEN.findall(text.lower())


def _english_stemmer():
    import Stemmer

    stem = Stemmer.Stemmer("english").stemWord
    return lambda tokens: [stem(t) for t in tokens]


class BM25System:
    """BM25 (Lucene variant, bm25s) of the untranslated query against English documents;
    documents stemmed (Snowball English), queries only lower-cased: shared names, numbers
    and cognates are all it can match."""

    name = "bm25"
    description = "BM25 (bm25s), untranslated queries, English documents"

    def run(self, track, ctx: Context) -> SystemResult:
        import bm25s

        stem = _english_stemmer()
        run = {}
        for lang, pair in track.data("test").items():
            ids = list(pair.docs)
            retriever = bm25s.BM25()
            retriever.index([stem(tokenize(pair.docs[d])) for d in ids], show_progress=False)
            for qid, text in pair.queries.items():
                scores = retriever.get_scores(tokenize(text) or ["\x00"])  # unknown tokens score 0
                run[qid] = {d: float(s) for d, s in zip(ids, scores)}
        return SystemResult(run)


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
    """PSQ: each query term f stands for English terms e with weight t(e | f) from IBM
    Model 1 on the track's (noisy) bitext; BM25 over expected term and document frequencies,
    tf'(f, d) = sum_e t(e|f) tf(e, d), df'(f) = sum_e t(e|f) df(e) (Darwish & Oard 2003).
    Translations below 0.01 or beyond the top 10 are pruned and the rest renormalised."""

    name = "psq"
    description = "PSQ with an IBM Model 1 table from the track's noisy bitext, BM25 weights"
    k1, b, top, floor = 1.2, 0.75, 10, 0.01

    def run(self, track, ctx: Context) -> SystemResult:
        stem = _english_stemmer()
        bitext, _ = track.noisy_bitext()
        run = {}
        for lang, pair in track.data("test").items():
            table = ibm1([(tokenize(p.text), stem(tokenize(p.english))) for p in bitext.get(lang, [])])
            ids = list(pair.docs)
            docs = [Counter(stem(tokenize(pair.docs[d]))) for d in ids]
            lengths = [sum(c.values()) for c in docs]
            avg = sum(lengths) / len(lengths)
            df = Counter(e for c in docs for e in c)
            n = len(docs)
            for qid, text in pair.queries.items():
                scores = [0.0] * n
                for f in tokenize(text):
                    translations = self._translations(table.get(f), f, stem)
                    dff = sum(p * df[e] for e, p in translations.items())
                    if dff <= 0:
                        continue
                    idf = math.log(1 + (n - dff + 0.5) / (dff + 0.5))
                    for i, c in enumerate(docs):
                        tf = sum(p * c[e] for e, p in translations.items())
                        if tf:
                            scores[i] += idf * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * lengths[i] / avg))
                run[qid] = dict(zip(ids, scores))
        return SystemResult(run)

    def _translations(self, row, f, stem) -> dict[str, float]:
        if not row:  # unseen term: itself (names, numbers), as an untranslated query would
            return {stem([f])[0]: 1.0}
        kept = sorted(((p, e) for e, p in row.items() if p >= self.floor), reverse=True)[: self.top]
        total = sum(p for p, _ in kept) or 1.0
        return {e: p / total for p, e in kept}
