"""One interface for every collection: per language pair and split, queries, documents, qrels.

A source is registered by name (`udhr`, `ir_datasets`); a track's `[collection]` table names
one and gives its options, which the source validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from clir_bench.core.registry import Registry


@dataclass(frozen=True)
class PairData:
    """Queries in `lang`, the documents they search, graded relevance (qid -> docid -> grade), and
    the topic of each query: queries of different languages that ask for the same thing share a
    topic (UDHR: the paragraph), and statistics treat a topic as one unit. None: every query is
    its own topic (collections whose languages have different queries)."""

    lang: str
    queries: dict[str, str]
    docs: Mapping[str, str]  # a dict, or a clir_bench.sources.documents.FileDocs streamed from disk
    qrels: dict[str, dict[str, int]]
    topics: dict[str, str] | None = None  # qid -> topic id


class CollectionSource(Protocol):
    name: str
    # True where queries are English and documents in the track's language (CIRAL, WikiCLIR);
    # False where queries are in the track's language and documents English (udhr).
    english_queries: bool

    def has_split(self, split: str) -> bool: ...  # "dev" may be absent: training then has no early stopping

    def load(self, lang: str, split: str) -> PairData: ...

    def describe(self) -> str: ...


# Each factory takes (options, where) and returns a CollectionSource; `where` locates
# the options in the track file for error messages.
SOURCES: Registry = Registry("collection source")
