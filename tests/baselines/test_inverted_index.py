"""The streaming inverted index: BM25 equal to bm25s's, on disk and back, PSQ's postings."""

import numpy as np
import pytest

from clir_baselines.inverted_index import InvertedIndex, build, cached, top
from clir_baselines.lexical import _english_stemmer, tokenize
from clir_bench.sources.documents import FileDocs
from clir_bench.tracks.track import get_track


def test_bm25_equals_bm25s_on_the_embedded_collection():
    bm25s = pytest.importorskip("bm25s")
    stem = _english_stemmer()
    track = get_track("noise-0.3")
    for pair in track.data("test").values():
        ids = list(pair.docs)
        reference = bm25s.BM25()
        reference.index([stem(tokenize(pair.docs[d])) for d in ids], show_progress=False)
        index = build(pair.docs, lambda text: stem(tokenize(text)))
        assert index.ids == ids
        for text in pair.queries.values():
            tokens = tokenize(text)
            for query in (tokens, tokens + tokens[:3]):  # repeated terms count again in both
                assert np.allclose(index.bm25(query), reference.get_scores(query or ["\x00"]), atol=1e-6)


def test_postings_are_exact_and_survive_the_disk(tmp_path):
    path = tmp_path / "docs.tsv"
    rows = [f"d{i}\t" + " ".join(["a"] * (i % 3 + 1) + ["b"] * (i % 2) + [f"t{i % 5}"]) for i in range(5000)]
    path.write_text("\n".join(rows) + "\n")
    index = cached(FileDocs(path), tokenize, "lower", tmp_path / "cache")
    assert isinstance(index, InvertedIndex) and index.n == 5000 and (tmp_path / "cache" / "index").is_dir()
    docs, tf = index.postings("a")
    assert docs.tolist() == list(range(5000)) and tf.tolist() == [i % 3 + 1 for i in range(5000)]
    docs, tf = index.postings("b")
    assert docs.tolist() == list(range(1, 5000, 2)) and set(tf.tolist()) == {1}
    assert index.df("t3") == 1000 and index.df("zzz") == 0
    assert index.lengths.tolist()[:4] == [2, 4, 4, 3]
    again = cached(FileDocs(path), tokenize, "lower", tmp_path / "cache")  # from the saved index
    assert np.array_equal(again.bm25(["b", "t3"]), index.bm25(["b", "t3"]))
    best = top(index.bm25(["t3"]), index.ids, 7)
    assert len(best) == 7 and all(int(d[1:]) % 5 == 3 for d in best)


def test_precomputed_impacts_give_the_lazy_scores_to_the_bit(tmp_path):
    """Search reads each posting's weight from `impacts` at the default (k1, b): the scores must be the
    lazy computation's exactly (today's results unchanged), on disk and from an index saved without them."""
    import dataclasses

    from clir_baselines.inverted_index import impacts_of

    stem = _english_stemmer()
    docs = get_track("noise-0.3").data("test")["de"].docs
    index = build(docs, lambda text: stem(tokenize(text)))
    lazy = dataclasses.replace(index, impacts=None)
    queries = [stem(tokenize(t)) for t in ("everyone has the right to education", "freedom freedom of movement",
                                           "the the the", "zzz")]
    for q in queries:
        assert np.array_equal(index.bm25(q), lazy.bm25(q)) and index.search(q, 5) == lazy.search(q, 5)
    assert not np.array_equal(index.bm25(queries[0], k1=1.2), index.bm25(queries[0]))  # other (k1, b): computed
    index.save(tmp_path / "with")
    lazy.save(tmp_path / "without")  # an index from before impacts: computed when loaded
    assert not (tmp_path / "without" / "impacts.npy").exists()
    for folder in ("with", "without"):
        loaded = InvertedIndex.load(tmp_path / folder)
        assert np.array_equal(loaded.impacts, index.impacts)
        assert all(np.array_equal(loaded.bm25(q), lazy.bm25(q)) for q in queries)
    blocks = impacts_of(index)  # block boundaries change nothing
    import clir_baselines.inverted_index as module

    old, module.IMPACT_BLOCK = module.IMPACT_BLOCK, 7
    try:
        assert np.array_equal(impacts_of(index), blocks)
    finally:
        module.IMPACT_BLOCK = old


def test_psq_with_an_identity_table_is_bm25():
    from clir_baselines.lexical import psq_scores

    stem = _english_stemmer()
    docs = get_track("noise-0.3").data("test")["sw"].docs
    index = build(docs, lambda text: stem(tokenize(text)))
    for text in ("everyone has the right to education", "freedom of movement and residence", "torture"):
        tokens = stem(tokenize(text))
        identity = [{t: 1.0} for t in tokens]
        np.testing.assert_allclose(psq_scores(index, identity), index.bm25(tokens), rtol=1e-6, atol=1e-7)


def test_unspaced_scripts_become_character_bigrams():
    assert tokenize("人人生而自由 Article 1") == ["人人", "人生", "生而", "而自", "自由", "article", "1"]
    assert tokenize("自") == ["自"] and tokenize("Haki za binadamu") == ["haki", "za", "binadamu"]


def test_a_query_that_matches_nothing_gets_a_seeded_random_order_not_the_docid_tie_break():
    import numpy as np

    from clir_baselines.lexical import ranked

    ids = [f"udhr-{i:04d}" for i in range(40)]
    unmatched = []
    first = ranked(np.zeros(40, dtype=np.float32), ids, 1000, "sw-0101", unmatched)
    again = ranked(np.zeros(40, dtype=np.float32), ids, 1000, "sw-0101", [])
    other = ranked(np.zeros(40, dtype=np.float32), ids, 1000, "sw-0102", [])
    assert first == again and first != other and unmatched == ["sw-0101"]  # seeded by the query id
    assert len(set(first.values())) == 40  # no ties left for trec_eval to break by docid
    scores = np.arange(40, dtype=np.float32)
    assert ranked(scores, ids, 1000, "sw-0103", unmatched) == {d: float(s) for d, s in zip(ids, scores, strict=True)}
    assert unmatched == ["sw-0101"]


def test_search_selects_the_same_best_documents_with_ties_broken_by_document_number():
    """`search` (among the matched documents) and `top` over every score agree with a full sort,
    ties at the cut going to the lowest document numbers; a query with fewer matches than the depth
    is filled with unmatched documents in document order."""
    rng = np.random.default_rng(3)
    docs = {f"d{i:04d}": " ".join(rng.choice(["a", "b", "c", "rare", "x", "y"], size=rng.integers(3, 9),
                                              p=[.3, .3, .2, .01, .1, .09])) for i in range(2000)}
    index = build(docs, str.split)
    for query, depth in ((["a"], 50), (["rare"], 100), (["a", "rare"], 30), (["x", "y", "b"], 1500), (["zzz"], 10)):
        scores = index.bm25(query)
        order = sorted(range(index.n), key=lambda i: (-scores[i], i))[:depth]
        expected = {index.ids[i]: float(scores[i]) for i in order}
        assert index.search(query, depth) == expected, query
        assert top(scores, index.ids, depth) == expected, query
