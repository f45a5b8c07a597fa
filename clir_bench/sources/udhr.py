"""The embedded collection: the Universal Declaration of Human Rights, aligned by article.

Units are 0 (the preamble) and articles 1-30. Fold f puts article a in the test split when
(a - 1) % 3 == f, in dev when (a - 1) % 3 == (f + 1) % 3, and in train otherwise; the
preamble is always train. Documents are the English paragraphs of a fold's test and dev
units (docid `udhr-UUPP`; about 36 per fold), never of its train units, whose text is the
bitext; queries are the paragraphs of the same units in another language (qid `LANG-UUPP`).
Relevance: the aligned English paragraph 2, the other paragraphs of its article 1; where a
language's paragraph count for a unit differs from English's, alignment falls back to the
article (all 1). Topics: the aligned English paragraph (`udhr-UUPP`), shared by that
paragraph's query in every language; the article (`udhr-UU00`) for a language whose
paragraphs align only by article.

A source of several folds is three-fold cross-validation: its test split is every fold's test
queries (each article is tested once, by a model trained on that fold), and each query ranks
its own fold's documents; `for_fold` gives one fold, with its dev split for early stopping.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.languages import LANGUAGES
from clir_bench.core.schema import Where, check_keys
from clir_bench.sources.base import SOURCES, PairData

UNITS = range(31)
FOLDS = (0, 1, 2)


@functools.cache
def paragraphs(lang: str) -> dict[int, list[str]]:
    """unit -> paragraphs, read from the shipped `data/udhr/<lang>.tsv`."""
    LANGUAGES.get(lang)
    text = resources.files("clir_bench").joinpath("data", "udhr", f"{lang}.tsv").read_text("utf-8")
    units: dict[int, list[str]] = {}
    for line in text.splitlines()[1:]:
        unit, _para, body = line.split("\t")
        units.setdefault(int(unit), []).append(body)
    return units


def unit_split(unit: int, fold: int) -> str:
    if unit == 0:
        return "train"
    return {fold: "test", (fold + 1) % 3: "dev"}.get((unit - 1) % 3, "train")


def units_of(split: str, fold: int) -> list[int]:
    return [u for u in UNITS if unit_split(u, fold) == split]


def aligned(lang: str, unit: int) -> bool:
    """Paragraph-level alignment holds when the paragraph counts agree with English."""
    return len(paragraphs(lang).get(unit, [])) == len(paragraphs("en").get(unit, []))


def fallbacks(langs) -> dict[str, list[int]]:
    """Units per language whose paragraphs align only at the article level."""
    out = {lang: [u for u in UNITS if paragraphs(lang).get(u) and not aligned(lang, u)] for lang in langs}
    return {lang: units for lang, units in out.items() if units}


def docid(unit: int, para: int) -> str:
    return f"udhr-{unit:02d}{para:02d}"


def qid(lang: str, unit: int, para: int) -> str:
    return f"{lang}-{unit:02d}{para:02d}"


@functools.cache
def documents(fold: int) -> dict[str, str]:
    """The English paragraphs of a fold's test and dev units: the documents its queries rank."""
    return {docid(u, p): text for split in ("test", "dev") for u in units_of(split, fold)
            for p, text in enumerate(paragraphs("en")[u], 1)}


def load_pair(lang: str, split: str, fold: int) -> PairData:
    english = paragraphs("en")
    queries, qrels, topics = {}, {}, {}
    for u in units_of(split, fold):
        is_aligned = aligned(lang, u)
        for p, text in enumerate(paragraphs(lang).get(u, []), 1):
            q = qid(lang, u, p)
            queries[q] = text
            qrels[q] = {docid(u, d): 2 if (is_aligned and d == p) else 1 for d in range(1, len(english[u]) + 1)}
            topics[q] = docid(u, p) if is_aligned else docid(u, 0)  # the paragraph; the article where unaligned
    return PairData(lang, queries, documents(fold), qrels, topics)


@functools.cache
def _all_documents() -> dict[str, str]:
    return {d: t for f in FOLDS for d, t in documents(f).items()}


@dataclass(frozen=True)
class UdhrSource:
    folds: tuple[int, ...] = (0,)
    name: str = "udhr"
    english_queries: bool = False

    @property
    def cross_validated(self) -> bool:
        return len(self.folds) > 1

    def for_fold(self, fold: int) -> UdhrSource:
        return UdhrSource(folds=(fold,))

    def has_split(self, split: str) -> bool:
        return split == "test" or not self.cross_validated  # dev belongs to each fold

    def load(self, lang: str, split: str) -> PairData:
        if not self.cross_validated:
            return load_pair(lang, split, self.folds[0])
        if split != "test":
            raise ClirBenchError(f"a cross-validated collection has a {split} split per fold: load it from "
                                 "`for_fold(f)` (`Track.fold_tracks()`)")
        parts = [load_pair(lang, "test", f) for f in self.folds]
        return PairData(lang, {q: t for p in parts for q, t in p.queries.items()}, _all_documents(),
                        {q: j for p in parts for q, j in p.qrels.items()},
                        {q: t for p in parts for q, t in p.topics.items()})

    def fold_of(self, lang: str) -> dict[str, int]:
        """qid -> the fold whose model answers it (its test fold)."""
        return {q: f for f in self.folds for q in load_pair(lang, "test", f).queries}

    def describe(self) -> str:
        if self.cross_validated:
            return (f"udhr (embedded), {len(self.folds)}-fold cross-validation (folds "
                    f"{', '.join(map(str, self.folds))}): each article tested once; per fold 10 test / 10 dev / "
                    "11 train units (preamble: train), queries rank their fold's test and dev paragraphs")
        fold = self.folds[0]
        n = {s: len(units_of(s, fold)) for s in ("test", "dev", "train")}
        return (f"udhr (embedded, fold {fold}): {n['test']} test / {n['dev']} dev / {n['train']} train units, "
                f"{len(documents(fold))} English documents (test and dev paragraphs)")


def _from_options(options: dict, where: Where) -> UdhrSource:
    check_keys(options, {"source", "fold", "folds"}, where)
    if "fold" in options and "folds" in options:
        raise ClirBenchError(f"{where.at('folds')}: found both fold and folds, expected one (fold = N for a single "
                             "fold, folds = [0, 1, 2] for cross-validation)")
    key = "folds" if "folds" in options else "fold"
    value = options.get(key, 0)
    folds = value if isinstance(value, list) else [value]
    for fold in folds:
        if fold not in FOLDS or isinstance(fold, bool):
            raise ClirBenchError(f"{where.at(key)}: found {value!r}, expected "
                                 + ("0, 1 or 2" if key == "fold" else "a list of distinct folds out of 0, 1, 2"))
    if not folds or len(set(folds)) != len(folds):
        raise ClirBenchError(f"{where.at(key)}: found {value!r}, expected a list of distinct folds out of 0, 1, 2")
    return UdhrSource(folds=tuple(folds))


SOURCES.add("udhr", _from_options)
