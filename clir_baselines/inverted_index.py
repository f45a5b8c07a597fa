"""A streaming inverted index of term frequencies, and BM25 over it (bm25s's Lucene variant).

bm25s (Lù 2024) scores eagerly from token lists held in memory and builds its sparse matrix
through COO: about 30 bytes a posting at its peak, more than the text. Here documents stream
twice from their store (clir_bench.sources.documents): pass 1 counts document frequencies and
lengths, pass 2 writes each posting straight into its term's slot (a counting sort), so the
index is exactly docid int32 + tf uint8 per posting (5 bytes), term-major, docids ascending.
BM25 is computed at query time with bm25s's defaults and formula (method "lucene"):
idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tfc = tf / (tf + k1 (1 - b + b dl / avgdl)),
k1 = 1.5, b = 0.75, in float32; tests check the scores against bm25s's own. Term frequencies
above 255 are capped (a document repeating one word 255 times scores as if 255).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clir_bench.sources.documents import doc_batches
from clir_bench.systems import atomic_dir

BATCH = 2048
K1, B = 1.5, 0.75  # bm25s's defaults; PSQ uses the same


@dataclass
class InvertedIndex:
    vocab: dict[str, int]
    indptr: np.ndarray  # int64, len(vocab) + 1: term t's postings are [indptr[t], indptr[t + 1])
    docs: np.ndarray  # int32 document numbers
    tf: np.ndarray  # uint8 term frequencies
    lengths: np.ndarray  # int32 tokens per document
    ids: list[str]  # document number -> docid
    impacts: np.ndarray | None = None  # float32 BM25 term weight per posting at (K1, B): see `impacts_of`

    @property
    def n(self) -> int:
        return len(self.ids)

    def span(self, term: str) -> tuple[int, int]:
        """Where `term`'s postings lie in `docs`, `tf` and `impacts` (empty for an unknown term)."""
        t = self.vocab.get(term)
        return (0, 0) if t is None else (int(self.indptr[t]), int(self.indptr[t + 1]))

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.span(term)
        return self.docs[a:b], self.tf[a:b]

    def df(self, term: str) -> int:
        t = self.vocab.get(term)
        return 0 if t is None else int(self.indptr[t + 1] - self.indptr[t])

    def length_norm(self, k1: float = K1, b: float = B) -> np.ndarray:
        """k1 (1 - b + b dl / avgdl) per document, float32, computed once per (k1, b)."""
        cache = self.__dict__.setdefault("_norms", {})
        if (k1, b) not in cache:
            avg = np.float32(self.lengths.mean())
            cache[(k1, b)] = np.float32(k1) * (np.float32(1 - b) + np.float32(b) * self.lengths.astype(np.float32)
                                               / avg)
        return cache[(k1, b)]

    def bm25(self, tokens: Iterable[str], *, k1: float = K1, b: float = B) -> np.ndarray:
        """BM25 (Lucene variant, as bm25s) of every document for one query's tokens."""
        return self.bm25_matched(tokens, k1=k1, b=b)[0]

    def bm25_matched(self, tokens: Iterable[str], *, k1: float = K1, b: float = B) -> tuple[np.ndarray, int]:
        """The scores, and how many postings the query touched (an upper bound on its matches). At the
        default (k1, b) each posting's weight is read from `impacts` (bm25s's eager scoring: one add a
        posting); the same float32 sum either way."""
        scores = np.zeros(self.n, dtype=np.float32)
        if not self.n:
            return scores, 0
        eager = self.impacts is not None and (k1, b) == (K1, B)
        norm, touched = (None if eager else self.length_norm(k1, b)), 0
        for term in tokens:  # a repeated query term counts again, as in bm25s
            lo, hi = self.span(term)
            if lo == hi:
                continue
            docs = self.docs[lo:hi]
            # add.at: the same float32 adds as `scores[docs] += ...`, 2.4x faster (numpy 2.4)
            np.add.at(scores, docs, self.impacts[lo:hi] if eager else
                      idf(self.n, docs.size) * _saturation(self.tf[lo:hi], docs, norm))
            touched += docs.size
        return scores, touched

    def search(self, tokens: Iterable[str], depth: int, *, k1: float = K1, b: float = B) -> dict[str, float]:
        """{docid: BM25} of the `depth` best documents for one query (`top(bm25(tokens))`), selecting among
        the documents the query matched where they are few, instead of sorting every document's score."""
        scores, touched = self.bm25_matched(tokens, k1=k1, b=b)
        return top(scores, self.ids, depth, matched=touched)

    def save(self, folder: Path) -> None:
        """Write the index to `folder` (made beside and renamed in: a reader never sees half of it)."""
        with atomic_dir(Path(folder), force=True) as tmp:
            for name in ("indptr", "docs", "tf", "lengths", "impacts"):
                if getattr(self, name) is not None:
                    np.save(tmp / f"{name}.npy", getattr(self, name))
            (tmp / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), "utf-8")
            (tmp / "ids.txt").write_text("\n".join(self.ids), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> InvertedIndex:
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ("indptr", "docs", "tf", "lengths")}
        vocab = json.loads((folder / "vocab.json").read_text("utf-8"))
        ids = (folder / "ids.txt").read_text("utf-8").split("\n")
        index = cls(vocab=vocab, ids=ids, **arrays)
        path = folder / "impacts.npy"  # an index saved before impacts were: computed here, once per load
        index.impacts = np.load(path, mmap_mode="r") if path.is_file() else impacts_of(index)
        return index


def idf(n: int, df: int) -> np.float32:
    """bm25s's Lucene idf, ln(1 + (N - df + 0.5) / (df + 0.5)), in float64 then float32 (as bm25s)."""
    return np.float32(np.log(1 + (n - df + 0.5) / (df + 0.5)))


def _saturation(tf: np.ndarray, docs: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """BM25's term-frequency part tf / (tf + k1 (1 - b + b dl / avgdl)) of some postings, float32."""
    tf32 = tf.astype(np.float32)
    return tf32 / (tf32 + norm[docs])


IMPACT_BLOCK = 1 << 22  # postings weighed at once: bounds the temporaries of `impacts_of` (~64 MB)


def impacts_of(index: InvertedIndex, *, k1: float = K1, b: float = B) -> np.ndarray:
    """Every posting's BM25 weight idf(t) tf / (tf + k1 (1 - b + b dl / avgdl)), float32, computed
    term by term with exactly the operations of the lazy path in `bm25_matched` (the scores are equal
    to the bit); 4 bytes a posting on top of the index's 5."""
    norm, out = index.length_norm(k1, b), np.empty(index.docs.size, dtype=np.float32)
    df = np.diff(np.asarray(index.indptr))
    weights = [idf(index.n, int(d)) for d in df.tolist()]
    start = 0
    while start < df.size:  # whole terms per block
        stop = int(np.searchsorted(index.indptr, index.indptr[start] + IMPACT_BLOCK, side="right")) - 1
        stop = min(max(stop, start + 1), df.size)
        lo, hi = int(index.indptr[start]), int(index.indptr[stop])
        part = _saturation(index.tf[lo:hi], index.docs[lo:hi], norm)
        part *= np.repeat(np.asarray(weights[start:stop], dtype=np.float32), df[start:stop])
        out[lo:hi] = part
        start = stop
    return out


def _term_doc_pairs(batch: list[list[str]], vocab: dict[str, int], grow: bool) -> tuple[np.ndarray, np.ndarray,
                                                                                          np.ndarray]:
    """Unique (term, doc-in-batch) pairs of a batch, sorted by term, with their counts."""
    terms, docs = [], []
    for i, tokens in enumerate(batch):
        ids = [vocab.setdefault(t, len(vocab)) for t in tokens] if grow else [vocab[t] for t in tokens]
        terms += ids
        docs += [i] * len(ids)
    if not terms:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    keys = np.asarray(terms, dtype=np.int64) * len(batch) + np.asarray(docs, dtype=np.int64)
    keys, counts = np.unique(keys, return_counts=True)
    return keys // len(batch), keys % len(batch), counts


def build(docs, analyse: Callable[[str], list[str]], *, progress: Callable[[int], None] | None = None) -> InvertedIndex:
    """Two streaming passes over `docs` (a Mapping or a FileDocs): count, then place postings.

    `progress(n)` gets the documents read so far over both passes (2N at the end)."""
    vocab: dict[str, int] = {}
    df = np.zeros(1024, dtype=np.int64)
    lengths: list[np.ndarray] = []
    ids: list[str] = []
    for batch_ids, texts in doc_batches(docs, BATCH):
        tokens = [analyse(t) for t in texts]
        terms, _, _ = _term_doc_pairs(tokens, vocab, grow=True)
        if len(vocab) > df.size:
            df = np.concatenate([df, np.zeros(max(len(vocab) - df.size, df.size), dtype=np.int64)])
        np.add.at(df, terms, 1)
        lengths.append(np.fromiter((len(t) for t in tokens), dtype=np.int32, count=len(tokens)))
        ids += batch_ids
        if progress:
            progress(len(ids))
    df = df[:len(vocab)]
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    postings_docs = np.empty(int(indptr[-1]), dtype=np.int32)
    postings_tf = np.empty(int(indptr[-1]), dtype=np.uint8)
    fill = indptr[:-1].copy()
    start = 0
    for batch_ids, texts in doc_batches(docs, BATCH):
        terms, local, counts = _term_doc_pairs([analyse(t) for t in texts], vocab, grow=False)
        if terms.size:
            # rank of each posting within its term in this batch (pairs are sorted by term)
            first = np.r_[0, np.flatnonzero(np.diff(terms)) + 1]
            run_start = np.repeat(first, np.diff(np.r_[first, terms.size]))
            slot = fill[terms] + (np.arange(terms.size) - run_start)
            postings_docs[slot] = start + local
            postings_tf[slot] = np.minimum(counts, 255)
            np.add.at(fill, terms, 1)
        start += len(batch_ids)
        if progress:
            progress(len(ids) + start)
    if start != len(ids):
        raise RuntimeError("the documents changed between the two passes of indexing")
    index = InvertedIndex(vocab, indptr, postings_docs, postings_tf,
                          np.concatenate(lengths) if lengths else np.zeros(0, np.int32), ids)
    index.impacts = impacts_of(index)
    return index


def cached(docs, analyse, analyser_name: str, cache: Path | None, progress=None) -> InvertedIndex:
    """`build`, saved under CACHE/index/KEY for documents on disk (KEY: their fingerprint, the analyser)."""
    if cache is None or not hasattr(docs, "fingerprint"):
        return build(docs, analyse, progress=progress)
    key = hashlib.sha256(f"{docs.fingerprint()}|{analyser_name}".encode()).hexdigest()[:16]
    folder = Path(cache) / "index" / key
    if (folder / "ids.txt").is_file():
        return InvertedIndex.load(folder)
    index = build(docs, analyse, progress=progress)
    folder.parent.mkdir(parents=True, exist_ok=True)
    index.save(folder)
    return InvertedIndex.load(folder)


def top(scores: np.ndarray, ids: list[str], depth: int, *, matched: int | None = None) -> dict[str, float]:
    """{docid: score} for the `depth` best (every document where there are no more); of documents
    that tie at the cut, the lowest document numbers. `matched` (at least the number of nonzero
    scores) lets a query that matched few documents be selected among those alone."""
    if scores.size <= depth:
        return {d: float(s) for d, s in zip(ids, scores.tolist(), strict=True)}
    pool = None
    if matched is not None and matched < scores.size // 8:
        pool = np.flatnonzero(scores)
        if pool.size <= depth:  # fewer matches than the depth: then documents at 0, lowest numbers first
            zeros = np.flatnonzero(scores[:pool.size + depth] == 0)[:depth - pool.size]
            chosen = np.concatenate([pool, zeros])
            return {ids[i]: v for i, v in zip(chosen.tolist(), scores[chosen].tolist(), strict=True)}
    values = scores if pool is None else scores[pool]
    cut = np.partition(values, values.size - depth)[values.size - depth]  # the depth-th best (values only:
    # 3x faster than argpartition at 1M documents)
    above = np.flatnonzero(values > cut)
    chosen = np.concatenate([above, np.flatnonzero(values == cut)[:depth - above.size]])
    chosen = chosen if pool is None else pool[chosen]
    return {ids[i]: v for i, v in zip(chosen.tolist(), scores[chosen].tolist(), strict=True)}
