"""Judgments: what a run is checked and scored against, from a track or from a bare qrels file.

A track gives qrels, each query's language and resource class, the documents each query may
rank, the metrics and provenance; a qrels file gives only qrels (languages from `LANG-`
prefixes of the qids, no classes, so no gap). Tracks are read through their public
attributes, so this module never imports the tracks package.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from clir_bench.evaluation.metrics import DEFAULT_METRICS, Metric, metric
from clir_bench.evaluation.qrels import qrels_sha256, read_qrels
from clir_bench.evaluation.validation import RunSpec


@dataclass(frozen=True)
class Judgments:
    qrels: dict[str, dict[str, int]]
    lang_of: dict[str, str]  # qid -> language
    classes: dict[str, str]  # language -> "high" | "low"; empty without a track
    spec: RunSpec
    metrics: tuple[Metric, ...]
    source: str  # what was used, in words
    provenance: dict = field(default_factory=dict)
    topic_of: dict[str, str] = field(default_factory=dict)  # qid -> topic; a qid absent is its own topic
    fold_of: dict[str, int] = field(default_factory=dict)  # qid -> fold, for a cross-validated track

    def topic(self, qid: str) -> str:
        """The statistical unit of `qid`: its topic, or where topics share their best documents, the
        cluster of those topics (`units`)."""
        return self.units.get(self.topic_of.get(qid, qid), self.topic_of.get(qid, qid))

    @functools.cached_property
    def units(self) -> dict[str, str]:
        """Topic -> its unit: topics whose queries' highest-graded relevant documents overlap are one
        unit, named by their ids joined with "+". Only an article-level fallback does this on UDHR
        (so and yo ask article 2 as one query, `udhr-0200`, whose best documents are the article's
        paragraphs, `udhr-0201` and `udhr-0202`, themselves topics of the other languages): counted
        apart it would be a unit of two queries that repeats two other units' documents, so it
        joins them, for the intervals of `score` and the tests of `compare` alike. Topics that
        share only lower-graded documents (a paragraph's article siblings) stay apart. Judgments
        without topics (a bare qrels file: every query its own topic) are left as they are."""
        if not self.topic_of:
            return {}
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        owner: dict[str, str] = {}  # a best document -> the first topic that has it
        for q, judged in self.qrels.items():
            top = max(judged.values(), default=0)
            if top <= 0:
                continue
            t = self.topic_of.get(q, q)
            find(t)
            for doc, grade in judged.items():
                if grade == top:
                    first = owner.setdefault(doc, t)
                    parent[find(t)] = find(first)
        members: dict[str, list[str]] = {}
        for t in parent:
            members.setdefault(find(t), []).append(t)
        return {t: "+".join(sorted(group)) for group in members.values() if len(group) > 1 for t in group}

    def absent(self, present) -> list[tuple[str, str]]:
        """(found, expected) warnings for judged queries a run leaves out: how many, and every fold
        of a cross-validated track that the run does not answer at all."""
        missing = [q for q in self.qrels if q not in present]
        if not missing:
            return []
        out = [(f"{len(missing):,} judged queries absent from the run (e.g. {missing[:3]})",
                "every query; they score 0, as with trec_eval -c")]
        folds: dict[int, list[str]] = {}
        for q, f in self.fold_of.items():
            folds.setdefault(f, []).append(q)
        for f, qids in sorted(folds.items()):
            if not any(q in present for q in qids):
                out.append((f"no query of fold {f} ({len(qids):,} queries)",
                            "every fold's test queries, each answered by the model trained on that fold"))
        return out

    def with_metrics(self, names) -> Judgments:
        """The same judgments scored on other metrics (the first is primary)."""
        from dataclasses import replace

        return replace(self, metrics=tuple(dict.fromkeys(metric(n) for n in names)))


SPLITS = ("test", "dev")


def from_track(track, split: str = "test") -> Judgments:
    """The test (or dev) split of `track`: every query must be the track's, and rank only the
    documents its fold searches (for a track of one fold: the collection's). A cross-validated
    track's dev split joins every fold's dev queries (each asked in one fold, as test queries are)."""
    from clir_bench.core.errors import ClirBenchError

    if split not in SPLITS:
        raise ClirBenchError(f"split {split!r}: expected one of {', '.join(SPLITS)}")
    if split != "test" and not all(p.collection.has_split(split) for p in track.fold_tracks()):
        raise ClirBenchError(f"track {track.name} has no {split} split; score against its test split")
    qrels, lang_of, docs_of, topic_of, fold_of = {}, {}, {}, {}, {}
    for part in track.fold_tracks():
        for lang, pair in part.data(split).items():
            topic_of.update(pair.topics or {})
            docset = pair.docs.ids() if hasattr(pair.docs, "ids") else frozenset(pair.docs)
            for q in pair.queries:
                lang_of[q] = lang
                docs_of[q] = docset
                if track.cross_validated:
                    fold_of[q] = part.fold
            for q, judged in pair.qrels.items():
                qrels[q] = judged
                lang_of.setdefault(q, lang)
    example = next(iter(lang_of), "")
    which = "" if split == "test" else f"{split} "
    spec = RunSpec(qids=frozenset(lang_of), strict_qids=True, docs_of=docs_of, max_docs=track.max_docs_per_query,
                   expected_qids=f"a {which}query of track {track.name} (like {example!r})",
                   expected_docs=f"a document of the query's fold (where it is a {split} query: its test and dev "
                                 "paragraphs; `data export` lists them in fold-F/documents)" if fold_of
                   else "a document of the collection")
    provenance = {"track": track.name, "track_version": track.version, "split": split, "track_file": track.path,
                  "collection": track.collection.describe(), "qrels_sha256": qrels_sha256(qrels),
                  "bitext_sha256": track.bitext_sha256(), "noise": track.noise.describe(), "seed": track.seed}
    return Judgments(qrels, lang_of, dict(track.languages), spec, track.metrics,
                     f"track {track.name}" + (f" ({split} split)" if split != "test" else ""), provenance,
                     topic_of, fold_of)


def from_qrels(path: Path, metrics=DEFAULT_METRICS) -> Judgments:
    """Judgments from a bare qrels file: languages from `LANG-` qid prefixes, no classes, no gap."""
    qrels = read_qrels(path)
    return from_qrels_mapping(qrels, metrics=metrics, source=f"qrels {path}",
                              provenance={"qrels_file": str(path)})


def from_qrels_mapping(qrels: dict[str, dict[str, int]], *, metrics=DEFAULT_METRICS, source: str = "qrels (mapping)",
                       provenance: dict | None = None) -> Judgments:
    """Judgments from qrels held in memory ({qid: {docid: grade}}), as `from_qrels`."""
    prefixed = all("-" in q for q in qrels)
    lang_of = {q: q.split("-", 1)[0] if prefixed else "all" for q in qrels}
    spec = RunSpec(qids=frozenset(qrels), strict_qids=False, docs_of=None,
                   expected_qids="a judged query (trec_eval ignores it)")
    return Judgments(qrels, lang_of, {}, spec, tuple(dict.fromkeys(metric(m) for m in metrics)), source,
                     {**(provenance or {}), "qrels_sha256": qrels_sha256(qrels)})
