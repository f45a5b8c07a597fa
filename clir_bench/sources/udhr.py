"""The embedded collection: the Universal Declaration of Human Rights, aligned by article.

Units are 0 (the preamble) and articles 1-30. Fold f puts article a in the test split when
(a - 1) % 3 == f, in dev when (a - 1) % 3 == (f + 1) % 3, and in train otherwise; the
preamble is always train. Documents are English paragraphs (docid `udhr-UUPP`), queries the
paragraphs of the same units in another language (qid `LANG-UUPP`). Relevance: the aligned
English paragraph 2, the other paragraphs of its article 1; where a language's paragraph
count for a unit differs from English's, alignment falls back to the article (all 1).
Topics: the aligned English paragraph (`udhr-UUPP`), shared by that paragraph's query in every
language; the article (`udhr-UU00`) for a language whose paragraphs align only by article.
Bitext pairs come from train units only, so no training text is ever a document or query.
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
def documents(split: str, fold: int) -> dict[str, str]:
    """The English paragraphs of a split: one dict shared by every language."""
    return {docid(u, p): text for u in units_of(split, fold) for p, text in enumerate(paragraphs("en")[u], 1)}


def load_pair(lang: str, split: str, fold: int) -> PairData:
    units = units_of(split, fold)
    english = paragraphs("en")
    docs = documents(split, fold)
    queries, qrels, topics = {}, {}, {}
    for u in units:
        is_aligned = aligned(lang, u)
        for p, text in enumerate(paragraphs(lang).get(u, []), 1):
            q = qid(lang, u, p)
            queries[q] = text
            qrels[q] = {docid(u, d): 2 if (is_aligned and d == p) else 1 for d in range(1, len(english[u]) + 1)}
            topics[q] = docid(u, p) if is_aligned else docid(u, 0)  # the paragraph; the article where unaligned
    return PairData(lang, queries, docs, qrels, topics)


@dataclass(frozen=True)
class UdhrSource:
    fold: int = 0
    name: str = "udhr"
    english_queries: bool = False

    def has_split(self, split: str) -> bool:
        return True

    def load(self, lang: str, split: str) -> PairData:
        return load_pair(lang, split, self.fold)

    def describe(self) -> str:
        n = {s: len(units_of(s, self.fold)) for s in ("test", "dev", "train")}
        return (f"udhr (embedded, fold {self.fold}): {n['test']} test / {n['dev']} dev / "
                f"{n['train']} train units, English documents")


def _from_options(options: dict, where: Where) -> UdhrSource:
    check_keys(options, {"source", "fold"}, where)
    fold = options.get("fold", 0)
    if fold not in FOLDS or isinstance(fold, bool):
        raise ClirBenchError(f"{where.at('fold')}: found {fold!r}, expected 0, 1 or 2")
    return UdhrSource(fold=fold)


SOURCES.add("udhr", _from_options)
