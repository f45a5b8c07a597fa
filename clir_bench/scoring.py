"""Score a validated run with pytrec_eval: per-language means, high/low means, the gap.

Per query, every metric is pytrec_eval's (trec_eval's) value; a query judged in the qrels
but absent from the run scores 0 on every metric (trec_eval `-c`), since pytrec_eval
silently drops it. Per language, the mean over its judged queries; per resource class,
the macro mean over its languages; gap = high - low; relative gap = gap / high. Intervals
are 95% stratified percentile-bootstrap intervals over queries (`clir_bench.stats`).
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

from clir_bench import __version__
from clir_bench.errors import ClirBenchError
from clir_bench.metrics import Metric, metric
from clir_bench.runfile import Problems, RunSpec, Scan, scan_run
from clir_bench.stats import bootstrap_ci

DEFAULT_METRICS = ("map", "ndcg@10", "p@10", "r@100", "mrr")


@dataclass(frozen=True)
class Judgments:
    """What a run is checked and scored against."""

    qrels: dict[str, dict[str, int]]
    lang_of: dict[str, str]  # qid -> language
    classes: dict[str, str]  # language -> "high" | "low"; empty without a track
    spec: RunSpec
    metrics: tuple[Metric, ...]
    source: str  # what was used, in words
    provenance: dict = field(default_factory=dict)


def qrels_sha256(qrels: dict[str, dict[str, int]]) -> str:
    """sha256 of the qrels in canonical TREC form (sorted `qid 0 docid grade` lines)."""
    digest = hashlib.sha256()
    for q in sorted(qrels):
        for d in sorted(qrels[q]):
            digest.update(f"{q} 0 {d} {qrels[q][d]}\n".encode())
    return digest.hexdigest()


def from_track(track) -> Judgments:
    data = track.data("test")
    qrels, lang_of, docs_of = {}, {}, {}
    for lang, pair in data.items():
        docset = pair.docs.ids() if hasattr(pair.docs, "ids") else frozenset(pair.docs)
        for q in pair.queries:
            lang_of[q] = lang
            docs_of[q] = docset
        for q, judged in pair.qrels.items():
            qrels[q] = judged
            lang_of.setdefault(q, lang)
    example = next(iter(lang_of), "")
    spec = RunSpec(qids=frozenset(lang_of), strict_qids=True, docs_of=docs_of, max_docs=track.max_docs_per_query,
                   expected_qids=f"a query of track {track.name} (like {example!r})")
    from clir_bench.export import digest, render_bitext

    provenance = {"track": track.name, "track_version": track.version, "track_file": track.path,
                  "collection": track.collection.describe(), "qrels_sha256": qrels_sha256(qrels),
                  "bitext_sha256": digest(render_bitext(track)), "noise": track.noise.describe(),
                  "seed": track.seed}
    return Judgments(qrels, lang_of, dict(track.languages), spec, track.metrics, f"track {track.name}", provenance)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """A TREC qrels file (`qid iteration docid grade`), strictly."""
    errors = Problems()
    qrels: dict[str, dict[str, int]] = {}
    try:
        opener = gzip.open if _is_gzip(path) else open
        with opener(path, "rt", encoding="utf-8-sig") as f:
            for n, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 4:
                    errors.add(n, f"{len(parts)} columns", "4 columns `qid 0 docid grade`")
                    continue
                try:
                    grade = int(parts[3])
                except ValueError:
                    errors.add(n, f"grade {parts[3]!r}", "an integer")
                    continue
                if parts[2] in qrels.setdefault(parts[0], {}):
                    errors.add(n, f"document {parts[2]!r} judged twice for {parts[0]!r}", "one judgment per pair")
                qrels[parts[0]][parts[2]] = grade
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise ClirBenchError(f"cannot read qrels file {path}: {e}") from None
    if errors.total:
        raise ClirBenchError("invalid qrels:\n" + "\n".join(errors.lines(str(path))))
    if not qrels:
        raise ClirBenchError(f"{path}: found no judgments, expected lines `qid 0 docid grade`")
    return qrels


def from_qrels(path: Path, metrics=DEFAULT_METRICS) -> Judgments:
    """Judgments from a bare qrels file: languages from `LANG-` qid prefixes, no classes, no gap."""
    qrels = read_qrels(path)
    prefixed = all("-" in q for q in qrels)
    lang_of = {q: q.split("-", 1)[0] if prefixed else "all" for q in qrels}
    spec = RunSpec(qids=frozenset(qrels), strict_qids=False, docs_of=None,
                   expected_qids=f"a query of {path} (trec_eval ignores it)")
    provenance = {"qrels_file": str(path), "qrels_sha256": qrels_sha256(qrels)}
    return Judgments(qrels, lang_of, {}, spec, tuple(metric(m) for m in metrics), f"qrels {path}", provenance)


def detect_track(run_path: Path, sample_lines: int = 2000):
    """The built-in track whose test queries best cover the first qids of a run, and its twins.

    Returns (track, [names of tracks with the same test qrels]).
    """
    from clir_bench.tracks import builtin

    qids = set()
    try:
        opener = gzip.open if _is_gzip(run_path) else open
        with opener(run_path, "rt", encoding="utf-8-sig", errors="replace") as f:
            for line in itertools.islice(f, sample_lines):
                if line.split():
                    qids.add(line.split()[0])
    except (OSError, EOFError) as e:
        raise ClirBenchError(f"cannot read run file {run_path}: {e}") from None
    best, best_cover = None, 0.0
    for _, track in builtin().items():
        known = {q for pair in track.data("test").values() for q in pair.queries}
        cover = len(qids & known) / len(qids) if qids else 0.0
        if cover > best_cover:
            best, best_cover = track, cover
    if best is None or best_cover < 0.5:
        raise ClirBenchError(
            f"{run_path}: found query ids like {[q[:20] for q in sorted(qids)[:3]]} that match no built-in track; "
            "pass --track NAME (see `clir-bench tracks`) or --qrels FILE"
        )
    digest = _test_qrels_sha256(best)
    twins = [name for name, t in builtin().items()
             if name != best.name and set(t.languages) == set(best.languages) and _test_qrels_sha256(t) == digest]
    return best, twins


def _test_qrels_sha256(track) -> str:
    return qrels_sha256({q: j for pair in track.data("test").values() for q, j in pair.qrels.items()})


class InvalidRun(ClirBenchError):
    """The run failed validation; `scan` holds every problem."""

    def __init__(self, path: Path, scan: Scan) -> None:
        self.path, self.scan = path, scan
        super().__init__(f"{path}: {scan.errors.total:,} error(s)")


def _evaluator(judgments: Judgments):
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator(judgments.qrels, {m.measure for m in judgments.metrics})
    keys = [(m.name, m.key) for m in judgments.metrics]

    def consume(batch: dict) -> dict:
        return {q: {name: r[key] for name, key in keys} for q, r in evaluator.evaluate(batch).items()}

    return consume


def score_run(path: Path, judgments: Judgments, *, resamples: int = 10_000, seed: int = 0,
              workers: int | None = None) -> dict:
    """Validate and score the run at `path`; a JSON-ready report. Raises InvalidRun."""
    from importlib.metadata import version

    path = Path(path)
    scan = scan_run(path, judgments.spec, consume=_evaluator(judgments), workers=workers)
    if scan.errors.total:
        raise InvalidRun(path, scan)
    names = [m.name for m in judgments.metrics]
    zero = dict.fromkeys(names, 0.0)
    missing = [q for q in judgments.qrels if q not in scan.results]
    per_query = {q: scan.results.get(q, zero) for q in judgments.qrels}
    if missing:
        scan.warnings.add(0, f"{len(missing):,} judged queries absent from the run (e.g. {missing[:3]})",
                          "every query; they score 0, as with trec_eval -c")

    by_lang: dict[str, list[str]] = {}
    for q in judgments.qrels:
        by_lang.setdefault(judgments.lang_of[q], []).append(q)
    order = list(judgments.classes) or sorted(by_lang)
    missing_set = set(missing)
    primary = names[0]
    languages = {}
    for i, lang in enumerate(order):
        qs = by_lang.get(lang, [])
        values = {m: [per_query[q][m] for q in qs] for m in names}
        languages[lang] = {
            "class": judgments.classes.get(lang),
            "queries": len(qs),
            "missing": sum(q in missing_set for q in qs),
            "mean": {m: _mean(v) for m, v in values.items()},
            "ci": bootstrap_ci([values[primary]], lambda ms: ms[0], resamples=resamples, seed=seed + i),
        }
    report = {
        "run": {"path": str(path), "sha256": scan.sha256, "lines": scan.lines, "records": scan.records,
                "queries": len(scan.qids), "tags": list(scan.tags)},
        "scored_against": judgments.source,
        "metrics": names,
        "primary": primary,
        "languages": languages,
        "summary": _summary(judgments, languages, by_lang, per_query, names, resamples, seed),
        "warnings": scan.warnings.lines(str(path)),
        "per_query": per_query,
        "provenance": {**judgments.provenance, "harness": f"clir-bench {__version__}",
                       "pytrec_eval": version("pytrec-eval-terrier"), "bootstrap": {
                           "method": "stratified percentile", "resamples": resamples, "seed": seed,
                           "confidence": 0.95}},
    }
    return _json_safe(report)


def _json_safe(obj):
    """NaN (an interval that cannot be formed) becomes None, so the report is valid JSON."""
    if isinstance(obj, float):
        return None if math.isnan(obj) else obj
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _summary(judgments, languages, by_lang, per_query, names, resamples, seed) -> dict | None:
    """High and low macro means, gap and relative gap per metric; CIs for the primary metric."""
    high = [lang for lang, c in judgments.classes.items() if c == "high"]
    low = [lang for lang, c in judgments.classes.items() if c == "low"]
    if not high or not low:
        return None
    out = {}
    for m in names:
        h = sum(languages[lang]["mean"][m] or 0.0 for lang in high) / len(high)
        lo = sum(languages[lang]["mean"][m] or 0.0 for lang in low) / len(low)
        out[m] = {"high": h, "low": lo, "gap": h - lo, "relative_gap": (h - lo) / h if h else None}
    primary = names[0]
    samples = [[per_query[q][primary] for q in by_lang.get(lang, [])] for lang in high + low]
    k = len(high)

    def statistics(ms):
        import numpy as np

        h, lo = np.mean(ms[:k], axis=0), np.mean(ms[k:], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"high": h, "low": lo, "gap": h - lo, "relative_gap": (h - lo) / h}

    out["ci"] = bootstrap_ci(samples, statistics, resamples=resamples, seed=seed + 1000)
    return out


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"
