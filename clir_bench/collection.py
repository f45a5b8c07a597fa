"""One interface for every collection: per language pair and split, queries, documents, qrels.

A source is registered by name (`udhr`, `ir_datasets`); a track's `[collection]` table names
one and gives its options, which the source validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from clir_bench.registry import Registry


@dataclass(frozen=True)
class PairData:
    """Queries in `lang`, the documents they search, graded relevance (qid -> docid -> grade)."""

    lang: str
    queries: dict[str, str]
    docs: Mapping[str, str]
    qrels: dict[str, dict[str, int]]


class CollectionSource(Protocol):
    name: str

    def load(self, lang: str, split: str) -> PairData: ...

    def describe(self) -> str: ...


# Each factory takes (options, where) and returns a CollectionSource; `where` locates
# the options in the track file for error messages.
SOURCES: Registry = Registry("collection source")
