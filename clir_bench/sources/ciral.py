"""CIRAL (Adeyemi et al., FIRE 2023): English queries, passages in Hausa, Somali, Swahili, Yoruba.

Read from local files in the layout the project publishes (it is not in ir_datasets):

    ROOT/ciral-hausa/topics/topics.ciral-v1.0-ha-{dev,test-a,test-b}.tsv    qid<TAB>query
    ROOT/ciral-hausa/qrels/qrels.ciral-v1.0-ha-{dev,test-a,test-b}.tsv      qid Q0 docid relevance
    CORPUS/hausa_passages.jsonl[.gz]        {"docid", "title", "text", "url"} per line

ROOT is a clone of https://huggingface.co/datasets/CIRAL/ciral, CORPUS the `passages-v1.0`
folder of https://huggingface.co/datasets/CIRAL/ciral-corpus. Paths in a track are relative
to the track file. Query ids are namespaced `LANG-QID`; passages stay on disk (FileDocs).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.schema import Where, check_keys, expect
from clir_bench.evaluation.qrels import read_qrels
from clir_bench.sources.base import SOURCES, PairData
from clir_bench.sources.documents import FileDocs

NAMES = {"ha": "hausa", "so": "somali", "sw": "swahili", "yo": "yoruba"}
VERSION = "v1.0"
GET = ("get them with `git clone https://huggingface.co/datasets/CIRAL/ciral` (topics and qrels) and the "
       "passages-v1.0 folder of https://huggingface.co/datasets/CIRAL/ciral-corpus, then point the track's "
       "[collection] root and corpus at them")


@dataclass(frozen=True)
class CiralSource:
    root: Path
    corpus: Path
    sets: dict[str, str]  # split -> CIRAL set name (dev, test-a, test-b)
    name: str = "ciral"
    english_queries: bool = True

    def has_split(self, split: str) -> bool:
        return split in self.sets

    def _lang_name(self, lang: str) -> str:
        if lang not in NAMES:
            raise ClirBenchError(f"CIRAL has no language {lang!r}; it has {', '.join(NAMES)}")
        return NAMES[lang]

    def _file(self, lang: str, kind: str, split: str) -> Path:
        if split not in self.sets:
            raise ClirBenchError(f"the track's [collection] names no CIRAL set for the {split} split; "
                                 f"add `{split} = \"dev\"` (or test-a, test-b)")
        path = (self.root / f"ciral-{self._lang_name(lang)}" / kind /
                f"{kind}.ciral-{VERSION}-{lang}-{self.sets[split]}.tsv")
        if not path.is_file():
            raise ClirBenchError(f"CIRAL {kind} file {path} is missing; {GET}")
        return path

    def docs(self, lang: str) -> FileDocs:
        stem = self.corpus / f"{self._lang_name(lang)}_passages.jsonl"
        for path in (stem, stem.with_name(stem.name + ".gz")):
            if path.is_file():
                return _docs(path)
        raise ClirBenchError(f"CIRAL passages {stem}[.gz] are missing; {GET}")

    def load(self, lang: str, split: str) -> PairData:
        queries = {f"{lang}-{qid}": text for qid, text in _read_topics(self._file(lang, "topics", split))}
        qrels = read_qrels(self._file(lang, "qrels", split), qid_prefix=f"{lang}-")
        return PairData(lang, queries, self.docs(lang), qrels)

    def describe(self) -> str:
        sets = ", ".join(f"{k} = {v}" for k, v in self.sets.items())
        return f"ciral {VERSION} (local files {self.root}; {sets}), English queries"


@functools.cache
def _docs(path: Path) -> FileDocs:
    return FileDocs(path, what=f"; {GET}")


def _read_topics(path: Path):
    with open(path, encoding="utf-8-sig") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            qid, sep, text = line.rstrip("\r\n").partition("\t")
            if not sep or not qid:
                raise ClirBenchError(f"{path}:{n}: found {line.strip()[:60]!r}, expected `qid<TAB>query`")
            yield qid, text


def _norm(path: Path) -> Path:
    return Path(os.path.normpath(path))


def _from_options(options: dict, where: Where) -> CiralSource:
    check_keys(options, {"source", "root", "corpus", "test", "dev"}, where, required={"root", "test"})
    base = Path(where.path).parent
    root = _norm(base / expect(options["root"], str, where, "root", "a folder (a clone of CIRAL/ciral)"))
    corpus = _norm(base / expect(options.get("corpus", str(Path(options["root"]) / "passages-v1.0")), str, where,
                                 "corpus", "a folder holding LANGUAGE_passages.jsonl"))
    sets = {}
    for split in ("test", "dev"):
        if split in options:
            value = expect(options[split], str, where, split, "a CIRAL set: dev, test-a or test-b")
            if value not in ("dev", "test-a", "test-b"):
                raise ClirBenchError(f"{where.at(split)}: found {value!r}, expected dev, test-a or test-b")
            sets[split] = value
    return CiralSource(root=root, corpus=corpus, sets=sets)


SOURCES.add("ciral", _from_options)
