"""Collections from ir_datasets (https://ir-datasets.com), e.g. `wikiclir/sw`, `hc4/fa/test`,
`neuclir/1/fa/trec-2022`, `clirmatrix/...`: one dataset id per language and split.

Query ids are namespaced as `LANG-QID` so that one run file can hold every language.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.rng import ranked
from clir_bench.core.schema import Where, check_keys, expect
from clir_bench.sources.base import SOURCES, PairData
from clir_bench.sources.documents import StreamedDocs


class IrdsDocs(StreamedDocs):
    """A dataset's documents, streamed from ir_datasets's own files (never all in memory)."""

    def __init__(self, dataset_id: str, dataset) -> None:
        self.dataset_id, self.dataset = dataset_id, dataset
        self._ids: frozenset[str] | None = None

    def fingerprint(self) -> str:
        import ir_datasets

        return f"ir_datasets:{self.dataset_id}:{ir_datasets.__version__}"

    def records(self) -> Iterator[tuple[str, str]]:
        return ((d.doc_id, d.default_text()) for d in self.dataset.docs_iter())

    def ids(self) -> frozenset[str]:
        if self._ids is None:
            self._ids = frozenset(d.doc_id for d in self.dataset.docs_iter())
        return self._ids

    def lookup(self, docid: str) -> str:
        return self.dataset.docs_store().get(docid).default_text()

    def describe(self) -> str:
        return f"ir_datasets\t{self.fingerprint()}"


@dataclass(frozen=True)
class IrdsSource:
    test: dict[str, str]
    dev: dict[str, str] = field(default_factory=dict)
    english_queries: bool = False
    max_queries: int | None = None  # per language and split: a seeded choice (WikiCLIR has 10^4-10^6)
    name: str = "ir_datasets"

    def has_split(self, split: str) -> bool:
        return bool(self.test if split == "test" else self.dev)

    def load(self, lang: str, split: str) -> PairData:
        ids = self.test if split == "test" else self.dev
        if lang not in ids:
            raise ClirBenchError(
                f"the track's [collection.{split}] names no ir_datasets id for language {lang!r}; "
                f"add `{lang} = \"<dataset id>\"` there"
            )
        dataset_id = ids[lang]
        import ir_datasets  # lazy: heavy, and only needed for this source

        try:
            dataset = ir_datasets.load(dataset_id)
        except KeyError:
            raise ClirBenchError(
                f"ir_datasets has no dataset {dataset_id!r} (ir_datasets {ir_datasets.__version__}); "
                "check the id at https://ir-datasets.com"
            ) from None
        try:
            queries = {f"{lang}-{q.query_id}": q.default_text() for q in dataset.queries_iter()}
            if self.max_queries is not None and len(queries) > self.max_queries:
                keep = ranked(sorted(queries), 0, "queries", dataset_id)[: self.max_queries]
                queries = {q: queries[q] for q in sorted(keep)}
            docs = IrdsDocs(dataset_id, dataset)
            qrels: dict[str, dict[str, int]] = {}
            for r in dataset.qrels_iter():
                if f"{lang}-{r.query_id}" in queries:
                    qrels.setdefault(f"{lang}-{r.query_id}", {})[r.doc_id] = int(r.relevance)
        except (OSError, ConnectionError) as e:  # a download that failed or a file that is missing
            raise ClirBenchError(
                f"cannot read ir_datasets dataset {dataset_id!r}: {e}. ir_datasets downloads it on first use; "
                f"without network access, put the file it names under {ir_datasets.util.home_path()} (the "
                f"dataset's page, https://ir-datasets.com/{dataset_id.split('/')[0]}.html, lists them) and retry"
            ) from None
        return PairData(lang, queries, docs, qrels)

    def describe(self) -> str:
        return "ir_datasets: " + ", ".join(f"{lang}={i}" for lang, i in sorted(self.test.items()))


def _ids(options: dict, where: Where, split: str) -> dict[str, str]:
    table = expect(options.get(split, {}), dict, where, split,
                       f"a table [collection.{split}] of language = \"dataset id\"")
    sub = where.sub(f"{where.table}.{split}")
    for lang, dataset_id in table.items():
        expect(dataset_id, str, sub, lang, "an ir_datasets id string")
    return dict(table)


def _from_options(options: dict, where: Where) -> IrdsSource:
    check_keys(options, {"source", "test", "dev", "queries", "max_queries"}, where, required={"test"})
    max_queries = options.get("max_queries")
    if max_queries is not None and expect(max_queries, int, where, "max_queries", "a positive integer") < 1:
        raise ClirBenchError(f"{where.at('max_queries')}: found {max_queries}, expected a positive integer")
    queries = options.get("queries", "foreign")
    if queries not in ("foreign", "english"):
        raise ClirBenchError(f"{where.at('queries')}: found {queries!r}, expected \"foreign\" (queries in the "
                             "track's languages, English documents) or \"english\" (e.g. wikiclir, neuclir)")
    return IrdsSource(test=_ids(options, where, "test"), dev=_ids(options, where, "dev"),
                      english_queries=queries == "english", max_queries=max_queries)


SOURCES.add("ir_datasets", _from_options)
