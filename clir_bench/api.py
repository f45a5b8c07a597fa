"""The Python API: load a track, score a run (a file or a mapping held in memory), compare two.

    import clir_bench
    judged = clir_bench.load_judgments(track="noise-0.3")  # bound once, reused by every call
    report = clir_bench.score({"sw-0101": {"udhr-0101": 2.0, "udhr-0401": 1.0}}, judgments=judged)
    print(report.summary.by_metric["map"].gap, report.to_dict()["languages"]["sw"])
    diff = clir_bench.compare("a.trec", "b.trec", judgments=judged)  # topic-level paired tests

`score` validates by the same rules as `clir-bench score` and returns the same report
(`ScoreReport.to_dict()` is the document `clir-bench score --json` writes); `compare` returns
`clir-bench compare`'s rows. `resamples=0` gives point estimates without intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import regular_file
from clir_bench.evaluation.compare import Comparison
from clir_bench.evaluation.judgments import Judgments, from_qrels, from_qrels_mapping, from_track
from clir_bench.evaluation.report import ScoreReport
from clir_bench.evaluation.scoring import score_run
from clir_bench.tracks.track import Track, get_track

Run = Mapping[str, Mapping[str, float]]


def load_track(name_or_path: str | Path) -> Track:
    """A built-in track by name (`noise-0.3`), or a track TOML file by path."""
    return get_track(str(name_or_path))


def load_judgments(*, track: Track | str | Path | None = None, qrels: Mapping | Path | str | None = None,
                   run: Run | Path | str | None = None, metrics: Sequence[str] | None = None,
                   split: str = "test") -> Judgments:
    """What runs are scored against, bound once: a track (name, path or Track; its test split, or
    `split="dev"` for tuning), qrels (a file or {qid: {docid: grade}}), or the built-in track whose
    queries `run` holds. Pass it to `score` and `compare` as `judgments=` to reuse it."""
    return find_judgments(run=run, track=track, qrels=qrels, metrics=metrics, split=split)[0]


def find_judgments(*, run: Run | Path | str | None = None, track: Track | str | Path | None = None,
                   qrels: Mapping | Path | str | None = None, metrics: Sequence[str] | None = None,
                   split: str = "test") -> tuple[Judgments, str | None]:
    """What to score against: a track, a qrels file or mapping, or else the built-in track whose
    queries the run holds. Returns the judgments and, when the track was recognised, a note saying so."""
    from clir_bench.tracks.recognise import detect_track, sample_qids

    if track is not None and qrels is not None:
        raise ClirBenchError("pass a track or qrels (--track or --qrels), not both")
    if qrels is not None and split != "test":
        raise ClirBenchError(f"split {split!r} needs a track: a qrels file is what it is")
    note = None
    if isinstance(qrels, Mapping):
        j = from_qrels_mapping({str(q): dict(d) for q, d in qrels.items()})
    elif qrels is not None:
        j = from_qrels(Path(qrels))
    elif track is not None:
        j = from_track(track if isinstance(track, Track) else load_track(track), split)
    elif run is None:
        raise ClirBenchError("pass a track or qrels to score against")
    else:
        if isinstance(run, Mapping):
            found, twins = detect_track({str(q) for q in run}, "the run")
        else:
            found, twins = detect_track(sample_qids(regular_file(Path(run), "run file")), str(run))
        same = f" (same test data as {', '.join(twins)})" if twins else ""
        note = f"recognised the queries of track {found.name}{same}; pass a track to choose"
        j = from_track(found, split)
    return (j.with_metrics(metrics) if metrics else j), note


def _judged(run, track, qrels, judgments: Judgments | None, metrics, split: str = "test") -> Judgments:
    if judgments is not None:
        if track is not None or qrels is not None:
            raise ClirBenchError("pass judgments, or a track or qrels, not both")
        return judgments.with_metrics(metrics) if metrics else judgments
    return find_judgments(run=run, track=track, qrels=qrels, metrics=metrics, split=split)[0]


def score(run: Run | Path | str, *, track: Track | str | Path | None = None, qrels: Mapping | Path | str | None = None,
          judgments: Judgments | None = None, metrics: Sequence[str] | None = None, resamples: int = 10_000,
          seed: int = 0, split: str = "test") -> ScoreReport:
    """Validate and score `run` (a TREC file path, or {qid: {docid: score}}) against `judgments`
    (from `load_judgments`), a track (name, path or Track), qrels (a file or {qid: {docid: grade}}),
    or the track its queries belong to (`split="dev"`: its dev split, for tuning). `metrics`
    overrides the track's (the first is primary); `resamples=0`: no intervals. Raises
    ClirBenchError (InvalidRun, with every problem) for a run that fails validation."""
    j = _judged(run, track, qrels, judgments, metrics, split)
    return score_run(run if isinstance(run, Mapping) else Path(run), j, resamples=resamples, seed=seed)


def compare(a: Run | Path | str | ScoreReport, b: Run | Path | str | ScoreReport, *,
            track: Track | str | Path | None = None, qrels: Mapping | Path | str | None = None,
            judgments: Judgments | None = None, metric: str | None = None, resamples: int = 10_000,
            seed: int = 0, only: set[str] | None = None, names: tuple[str, str] | None = None) -> Comparison:
    """Paired comparison of two runs (files, mappings, or reports from `score` against the same
    judgments), as `clir-bench compare`: per language over queries, and the mean, low mean, high
    mean and gap over topics, with t and randomisation tests (Holm), MDD and topics needed.
    `only` keeps those rows (e.g. {"low mean", "gap"}), so Holm corrects over them alone."""
    from clir_bench.evaluation.compare import compare as paired

    j = _judged(a if not isinstance(a, ScoreReport) else None, track, qrels, judgments, None)
    reports = [r if isinstance(r, ScoreReport) else score(r, judgments=j, resamples=resamples, seed=seed)
               for r in (a, b)]
    names = names or tuple(r.run.path for r in reports)
    return paired(reports[0], reports[1], j, names=names, metric=metric, resamples=resamples, seed=seed, only=only)
