"""A minimal participant system: character 4-gram TF-IDF cosine, query language -> English.

It reads only what `clir-bench data export` writes and writes a TREC run, as any
participant would. Shared names, numbers and cognates carry it: a lexical floor, no model.
A cross-validated track's export holds each fold under fold-F/: each fold's queries rank
that fold's documents (a trained system would also train on fold-F/bitext only), and the
folds' answers go into one run.

    python examples/overlap_run.py EXPORT_DIR --out run.trec [--split test]
"""

import argparse
import math
import random
from collections import Counter
from pathlib import Path


def grams(text: str, n: int = 4) -> Counter:
    padded = f" {' '.join(text.lower().split())} "
    return Counter(padded[i:i + n] for i in range(len(padded) - n + 1))


def read_tsv(path: Path) -> dict[str, str]:
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return dict(row.split("\t", 1) for row in rows)


def rank(root: Path, split: str) -> list[str]:
    """TREC lines for the queries of `split` under `root`, against its documents."""
    docs = {d: grams(t) for d, t in read_tsv(root / "documents" / f"{split}.tsv").items()}
    df = Counter(g for vec in docs.values() for g in vec)
    idf = {g: math.log(1 + len(docs) / n) for g, n in df.items()}

    def weigh(vec: Counter) -> dict[str, float]:
        w = {g: c * idf.get(g, 0.0) for g, c in vec.items()}
        norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
        return {g: x / norm for g, x in w.items()}

    doc_vecs = {d: weigh(v) for d, v in docs.items()}
    lines = []
    for path in sorted((root / "queries" / split).glob("*.tsv")):
        for qid, text in read_tsv(path).items():
            q = weigh(grams(text))
            scores = {d: sum(w * v.get(g, 0.0) for g, w in q.items()) for d, v in doc_vecs.items()}
            # equal scores (no shared 4-gram: every document 0) in a random order seeded by the query, and a
            # score column that follows the ranks: trec_eval sorts by score, and would order ties by docid
            tiebreak = random.Random(qid)
            ranked = sorted(scores, key=lambda d: (-scores[d], tiebreak.random()))
            lines += [f"{qid} Q0 {d} {r} {len(ranked) - r + 1} char4-tfidf" for r, d in enumerate(ranked, 1)]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--split", default="test")
    args = ap.parse_args()

    folds = sorted(p for p in args.export.glob("fold-*") if p.is_dir()) or [args.export]
    lines = []
    for fold in folds:
        lines += rank(fold, args.split)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} lines to {args.out}")


if __name__ == "__main__":
    main()
