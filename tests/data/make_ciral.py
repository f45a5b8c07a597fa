"""A small collection in CIRAL's published layout (English queries, passages in ha/so/sw/yo),
made from the embedded UDHR so that retrieval has something real to find, with local bitext
in both file formats (TSV for ha and so, Moses for sw and yo).

    ROOT/ciral/ciral-hausa/topics/topics.ciral-v1.0-ha-{dev,test-a}.tsv
    ROOT/ciral/ciral-hausa/qrels/qrels.ciral-v1.0-ha-{dev,test-a}.tsv
    ROOT/ciral-corpus/passages-v1.0/hausa_passages.jsonl (yoruba gzipped)
    ROOT/bitext/ha-en.tsv, ROOT/bitext/en-sw.sw + en-sw.en ...
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from clir_bench.sources import udhr
from clir_bench.sources.ciral import NAMES

TRACK = """
name = "ciral-mini"
version = 1
seed = 7
description = "CIRAL layout, made from the UDHR: English queries, passages in ha so sw yo"
metrics = ["map", "ndcg@10", "r@100"]

[collection]
source = "ciral"
root = "ciral"
corpus = "ciral-corpus/passages-v1.0"
test = "test-a"
dev = "dev"

[languages]
low = ["ha", "so", "sw", "yo"]

[[bitext]]
source = "tsv"
path = "bitext/{lang}-en.tsv"

[[bitext]]
source = "moses"
foreign = "bitext/en-{lang}.{lang}"
english = "bitext/en-{lang}.en"
max_pairs = 40

[noise]
kind = "misalign"
rate = 0.3
"""


def make_ciral(root: Path) -> Path:
    """Write the files under ROOT; return the track file."""
    root = Path(root)
    english = udhr.paragraphs("en")
    for lang, name in NAMES.items():
        paras = udhr.paragraphs(lang)
        base = root / "ciral" / f"ciral-{name}"
        (base / "topics").mkdir(parents=True, exist_ok=True)
        (base / "qrels").mkdir(parents=True, exist_ok=True)
        for split, ciral_set in (("test", "test-a"), ("dev", "dev")):
            topics, qrels = [], []
            for u in udhr.units_of(split, 0):
                if not paras.get(u) or not udhr.aligned(lang, u):
                    continue
                for p, text in enumerate(english[u], 1):
                    qid = f"{u:02d}{p:02d}"
                    topics.append(f"{qid}\t{text}\n")
                    qrels.append(f"{qid} Q0 {lang}-{u:02d}{p:02d} 1\n")
            (base / "topics" / f"topics.ciral-v1.0-{lang}-{ciral_set}.tsv").write_text("".join(topics))
            (base / "qrels" / f"qrels.ciral-v1.0-{lang}-{ciral_set}.tsv").write_text("".join(qrels))
        corpus = root / "ciral-corpus" / "passages-v1.0"
        corpus.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps({"docid": f"{lang}-{u:02d}{p:02d}", "title": f"Article {u}", "text": text,
                                    "url": "https://example.org"}, ensure_ascii=False) + "\n"
                        for u in sorted(paras) for p, text in enumerate(paras[u], 1))
        target = corpus / f"{name}_passages.jsonl"
        if lang == "yo":
            gzip.open(target.with_name(target.name + ".gz"), "wt", encoding="utf-8").write(lines)
        else:
            target.write_text(lines)
        train = [(" ".join(paras[u]), " ".join(english[u])) for u in udhr.units_of("train", 0) if paras.get(u)]
        bitext = root / "bitext"
        bitext.mkdir(exist_ok=True)
        if lang in ("ha", "so"):
            (bitext / f"{lang}-en.tsv").write_text("text\tenglish\n" + "".join(f"{a}\t{b}\n" for a, b in train))
            (bitext / f"en-{lang}.{lang}").write_text("")
            (bitext / f"en-{lang}.en").write_text("")
        else:
            (bitext / f"{lang}-en.tsv").write_text("")
            (bitext / f"en-{lang}.{lang}").write_text("".join(f"{a}\n" for a, _ in train))
            (bitext / f"en-{lang}.en").write_text("".join(f"{b}\n" for _, b in train))
    track = root / "ciral-mini.toml"
    track.write_text(TRACK)
    return track
