"""Retrieval at scale on a synthetic collection (made here, never shipped): BM25 index build and
100-query retrieval, and dense encoding + exact search with the tiny test encoder, all
streaming from a JSONL file; against bm25s, which a researcher would otherwise use for BM25.

Documents: N (default 1,000,000) passages of 40-120 words drawn from a Zipf(1.1) vocabulary of
50,000 words (about 0.5 GB of text); queries: 5 words of a random passage each. Each step runs
as its own process (wall time; peak RSS from os.wait4), so memory is each tool's own.
Usage: python benchmarks/scale.py [--docs N] [--queries 100] [--skip-bm25s] [--skip-dense] [--before CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out" / "scale"

OURS_BM25 = """
import json, sys, time
from pathlib import Path
from clir_baselines.inverted_index import build
from clir_baselines.lexical import tokenize
from clir_bench.sources.documents import FileDocs
out = Path(sys.argv[1])
t0 = time.perf_counter()
index = build(FileDocs(out / "docs.jsonl"), tokenize)
t1 = time.perf_counter()
queries = [l.rstrip("\\n").split("\\t") for l in open(out / "queries.tsv")]
hits = sum(len(index.search(tokenize(q), 1000)) for _, q in queries)
t2 = time.perf_counter()
print(json.dumps({"index_s": t1 - t0, "search_s": t2 - t1, "hits": hits, "postings": int(index.docs.size)}))
"""

BM25S = """
import json, sys, time
from pathlib import Path
import bm25s
out = Path(sys.argv[1])
t0 = time.perf_counter()
ids, texts = [], []
for line in open(out / "docs.jsonl"):
    rec = json.loads(line)
    ids.append(rec["docid"]); texts.append(rec["title"] + " " + rec["text"])
tokens = bm25s.tokenize(texts, stopwords=None, show_progress=False)
del texts
retriever = bm25s.BM25()
retriever.index(tokens, show_progress=False)
t1 = time.perf_counter()
queries = [l.rstrip("\\n").split("\\t")[1] for l in open(out / "queries.tsv")]
docs, scores = retriever.retrieve(bm25s.tokenize(queries, stopwords=None, show_progress=False), k=1000,
                                  show_progress=False, n_threads=1)
t2 = time.perf_counter()
print(json.dumps({"index_s": t1 - t0, "search_s": t2 - t1, "hits": int(docs.size)}))
"""

OURS_DENSE = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tiny_model import make_tiny_model
from clir_bench.sources.documents import FileDocs
from clir_bench.models.encoder import Encoder, resolve
from clir_bench.models.retrieval import encode_docs
out = Path(sys.argv[1])
enc = Encoder(resolve(str(make_tiny_model(out / "tiny"))), max_length=128)
t0 = time.perf_counter()
index = encode_docs(enc, FileDocs(out / "docs.jsonl"), cache=out / "cache")
t1 = time.perf_counter()
queries = [l.rstrip("\\n").split("\\t")[1] for l in open(out / "queries.tsv")]
values, indices = index.search(enc.embed(queries, "query"), 1000)
t2 = time.perf_counter()
print(json.dumps({"encode_s": t1 - t0, "search_s": t2 - t1, "hits": int(indices.numel()), "shards": len(index.shards)}))
"""


DENSE_BASELINE = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tiny_model import make_tiny_model
from clir_bench.sources.documents import FileDocs
from clir_bench.models.encoder import Encoder, resolve
out = Path(sys.argv[1])
enc = Encoder(resolve(str(make_tiny_model(out / "tiny"))), max_length=128)
ids, texts = next(FileDocs(out / "docs.jsonl").batches(1024))
enc.embed(texts, "passage")
print(json.dumps({"docs_encoded": len(ids)}))
"""


def run(code: str, *args: str, cwd: Path = ROOT) -> dict:
    """One step as its own process; `cwd`: the checkout whose packages it imports (python puts its
    working folder first)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if status:
        raise SystemExit(f"failed: {err[-2000:]}")
    return {**json.loads(out.strip().splitlines()[-1]), "wall_s": time.perf_counter() - start,
            "peak_rss_mib": usage.ru_maxrss / 1024}


def make_collection(out: Path, n: int, n_queries: int, seed: int = 0) -> int:
    """Write docs.jsonl and queries.tsv; return the text size in bytes."""
    import numpy as np

    rng = np.random.default_rng(seed)
    syllables = ["ka", "li", "mo", "ba", "tu", "si", "ra", "ne", "wo", "ha", "yo", "za", "fe", "gu", "pi", "de"]
    vocab = np.array(["".join(rng.choice(syllables, size=rng.integers(2, 5))) + str(i % 7) for i in range(50_000)])
    path = out / "docs.jsonl"
    if path.is_file() and (out / "queries.tsv").is_file() and (out / "n.txt").read_text() == str(n):
        return path.stat().st_size
    picks = []
    with open(path, "w") as f:
        for start in range(0, n, 10_000):
            count = min(10_000, n - start)
            lengths = rng.integers(40, 121, size=count)
            words = vocab[np.minimum(rng.zipf(1.1, size=int(lengths.sum())) - 1, vocab.size - 1)]
            offsets = np.r_[0, np.cumsum(lengths)]
            for i in range(count):
                doc = words[offsets[i]:offsets[i + 1]]
                f.write(json.dumps({"docid": f"doc{start + i}", "title": "", "text": " ".join(doc)}) + "\n")
                if rng.random() < n_queries * 2 / n and len(picks) < n_queries:
                    picks.append(" ".join(rng.choice(doc, size=5, replace=False)))
    (out / "queries.tsv").write_text("".join(f"q{i}\t{q}\n" for i, q in enumerate(picks)))
    (out / "n.txt").write_text(str(n))
    return path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--skip-bm25s", action="store_true")
    ap.add_argument("--skip-dense", action="store_true", help="BM25 only")
    ap.add_argument("--before", type=Path, help="another checkout (e.g. `git worktree add ../old COMMIT`) whose BM25 "
                                                "runs beside this one's, for before/after ratios in one run")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    size = make_collection(OUT, args.docs, args.queries)
    print(f"{args.docs:,} documents, {size / 2**20:,.0f} MiB of text ({time.perf_counter() - t:.0f} s to make); "
          f"{args.queries} queries; 2-core CPU times, peak RSS per process")
    results = {"docs": args.docs, "text_mib": size / 2**20, "ours_bm25": run(OURS_BM25, str(OUT))}
    if args.before:
        results["ours_before"] = run(OURS_BM25, str(OUT), cwd=args.before.resolve())
    if not args.skip_bm25s:
        results["bm25s"] = run(BM25S, str(OUT))
    if not args.skip_dense:
        import shutil

        shutil.rmtree(OUT / "cache", ignore_errors=True)
        results["ours_dense"] = run(OURS_DENSE, str(OUT), str(ROOT / "tests"))
        results["dense_baseline"] = run(DENSE_BASELINE, str(OUT), str(ROOT / "tests"))  # torch + model, one batch
    for name, r in results.items():
        if isinstance(r, dict):
            print(f"  {name:11} " + ", ".join(f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v:,}"
                                              for k, v in r.items()))
    if "bm25s" in results:
        a, b = results["ours_bm25"], results["bm25s"]
        print(f"  BM25 ours/bm25s: wall {a['wall_s'] / b['wall_s']:.2f}x, peak RSS "
              f"{a['peak_rss_mib'] / b['peak_rss_mib']:.2f}x; indexing {a['index_s'] / b['index_s']:.2f}x, search "
              f"{a['search_s'] / b['search_s']:.2f}x ({1000 * a['search_s'] / args.queries:.1f} vs "
              f"{1000 * b['search_s'] / args.queries:.1f} ms per query)")
    if "ours_before" in results:
        a, b = results["ours_bm25"], results["ours_before"]
        print(f"  BM25 now/before: indexing {a['index_s'] / b['index_s']:.2f}x, search "
              f"{a['search_s'] / b['search_s']:.2f}x, peak RSS {a['peak_rss_mib'] / b['peak_rss_mib']:.2f}x")
    if args.skip_dense:
        (OUT / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        return
    above = results["ours_dense"]["peak_rss_mib"] - results["dense_baseline"]["peak_rss_mib"]
    print(f"  peak RSS / text size: BM25 {results['ours_bm25']['peak_rss_mib'] / results['text_mib']:.2f}, "
          f"dense {results['ours_dense']['peak_rss_mib'] / results['text_mib']:.2f} "
          f"({above / results['text_mib']:.2f} above torch + the loaded model)")
    (OUT / "results.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
