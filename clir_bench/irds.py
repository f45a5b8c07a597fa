"""Collections from ir_datasets (https://ir-datasets.com), e.g. `wikiclir/sw`, `hc4/fa/test`,
`neuclir/1/fa/trec-2022`, `clirmatrix/...`: one dataset id per language and split.

Query ids are namespaced as `LANG-QID` so that one run file can hold every language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clir_bench.collection import SOURCES, PairData
from clir_bench.errors import ClirBenchError
from clir_bench.schema import Where, check_keys, expect


@dataclass(frozen=True)
class IrdsSource:
    test: dict[str, str]
    dev: dict[str, str] = field(default_factory=dict)
    name: str = "ir_datasets"

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
            docs = {d.doc_id: d.default_text() for d in dataset.docs_iter()}
            qrels: dict[str, dict[str, int]] = {}
            for r in dataset.qrels_iter():
                qrels.setdefault(f"{lang}-{r.query_id}", {})[r.doc_id] = int(r.relevance)
        except (OSError, ConnectionError) as e:  # a download that failed or a file that is missing
            raise ClirBenchError(
                f"cannot read ir_datasets dataset {dataset_id!r}: {e}. ir_datasets downloads it on "
                "first use; without network access, place its files where ir_datasets "
                "documents (see `ir_datasets.util.home_path()`) and retry"
            ) from None
        return PairData(lang, queries, docs, qrels)

    def describe(self) -> str:
        return "ir_datasets: " + ", ".join(f"{lang}={i}" for lang, i in sorted(self.test.items()))


def _ids(options: dict, where: Where, split: str) -> dict[str, str]:
    table = expect(options.get(split, {}), dict, where, split, f"a table [collection.{split}] of language = \"dataset id\"")
    sub = where.sub(f"{where.table}.{split}")
    for lang, dataset_id in table.items():
        expect(dataset_id, str, sub, lang, "an ir_datasets id string")
    return dict(table)


def _from_options(options: dict, where: Where) -> IrdsSource:
    check_keys(options, {"source", "test", "dev"}, where, required={"test"})
    return IrdsSource(test=_ids(options, where, "test"), dev=_ids(options, where, "dev"))


SOURCES.add("ir_datasets", _from_options)
