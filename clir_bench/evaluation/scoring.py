"""Score a validated run with pytrec_eval: per-language means, high/low means, the gap.

Per query, every metric is pytrec_eval's (trec_eval's) value; a query judged in the qrels
but absent from the run scores 0 on every metric (trec_eval `-c`), since pytrec_eval
silently drops it. Per language, the mean over its judged queries; per resource class,
the macro mean over its languages; gap = high - low; relative gap = gap / high. Intervals
are 95% stratified percentile-bootstrap intervals over queries (`clir_bench.evaluation.stats`).
A run is a TREC file (plain or gzipped) or a mapping {qid: {docid: score}}; both are
validated by the same rules and give equal reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from clir_bench import __version__
from clir_bench.core.errors import ClirBenchError
from clir_bench.evaluation.judgments import Judgments
from clir_bench.evaluation.report import ClassMeans, LanguageScore, RunInfo, ScoreReport, Summary, clean, interval
from clir_bench.evaluation.stats import bootstrap_ci, mean, shares_topics, topic_bootstrap_ci
from clir_bench.evaluation.validation import MAPPING, Scan, scan_mapping, scan_run


class InvalidRun(ClirBenchError):
    """The run failed validation; `scan` holds every problem."""

    def __init__(self, path: Path | str, scan: Scan) -> None:
        self.path, self.scan = path, scan
        super().__init__(f"{path}: {scan.errors.total:,} error(s): " + "; ".join(scan.errors.lines(str(path))[:3]))


def _evaluator(judgments: Judgments):
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator(judgments.qrels, {m.measure for m in judgments.metrics})
    keys = [(m.name, m.key) for m in judgments.metrics]

    def consume(batch: dict) -> dict:
        return {q: {name: r[key] for name, key in keys} for q, r in evaluator.evaluate(batch).items()}

    return consume


def score_run(run: Path | str | Mapping, judgments: Judgments, *, resamples: int = 10_000, seed: int = 0,
              workers: int | None = None) -> ScoreReport:
    """Validate and score a run (a path, or a mapping {qid: {docid: score}}). Raises InvalidRun.
    `resamples=0`: point estimates only (every interval None), for a caller that wants the means fast."""
    from importlib.metadata import version

    if isinstance(run, Mapping):
        where = MAPPING
        scan = scan_mapping(run, judgments.spec, consume=_evaluator(judgments))
    else:
        where = str(run)
        scan = scan_run(Path(run), judgments.spec, consume=_evaluator(judgments), workers=workers)
    if scan.errors.total:
        raise InvalidRun(where, scan)
    names = [m.name for m in judgments.metrics]
    zero = dict.fromkeys(names, 0.0)
    missing = [q for q in judgments.qrels if q not in scan.results]
    per_query = {q: scan.results.get(q, zero) for q in judgments.qrels}
    for found, expected in judgments.absent(scan.results):
        scan.warnings.add(0, found, expected)

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
        languages[lang] = LanguageScore(
            language=lang, resource_class=judgments.classes.get(lang), queries=len(qs),
            missing=sum(q in missing_set for q in qs), mean={m: mean(v) for m, v in values.items()},
            ci=interval(bootstrap_ci([values[primary]], lambda ms: ms[0], resamples=resamples, seed=seed + i)
                        if resamples else None))
    if not resamples:
        mean_ci = None
    elif len(order) == 1:  # the mean over one language is that language's mean: the same interval
        mean_ci = languages[order[0]].ci
    else:
        samples = [[per_query[q][primary] for q in by_lang.get(lang, [])] for lang in order]
        topics = [[judgments.topic(q) for q in by_lang.get(lang, [])] for lang in order]
        mean_ci = topic_bootstrap_ci(samples, topics, lambda ms: sum(ms) / len(ms), resamples=resamples,
                                     seed=seed + 2000)
    return ScoreReport(
        metrics=tuple(names), primary=primary, languages=languages, mean_ci=interval(mean_ci),
        summary=_summary(judgments, languages, by_lang, per_query, names, resamples, seed),
        per_query=per_query, scored_against=judgments.source,
        provenance={**judgments.provenance, "harness": f"clir-bench {__version__}",
                    "pytrec_eval": version("pytrec-eval-terrier"), "bootstrap": {
                        "method": _method(judgments, by_lang) if resamples else "none (point estimates only)",
                        "resamples": resamples, "seed": seed,
                        "confidence": 0.95}},
        run=RunInfo(path=where, sha256=scan.sha256, lines=scan.lines, records=scan.records, queries=len(scan.qids),
                    tags=tuple(scan.tags)),
        warnings=tuple(scan.warnings.lines(where)))


def _method(judgments: Judgments, by_lang: dict[str, list[str]]) -> str:
    """How the class means' intervals resample: whole topics where languages share them."""
    shared = shares_topics([[judgments.topic(q) for q in qs] for qs in by_lang.values()])
    return ("percentile; per language its queries; class means and gap: topics (a topic's queries in every "
            "language drawn together)" if shared else "stratified percentile (queries within each language)")


def _summary(judgments, languages, by_lang, per_query, names, resamples, seed) -> Summary | None:
    """High and low macro means, gap and relative gap per metric; CIs for the primary metric."""
    high = [lang for lang, c in judgments.classes.items() if c == "high"]
    low = [lang for lang, c in judgments.classes.items() if c == "low"]
    if not high or not low:
        return None
    by_metric = {}
    for m in names:
        h = sum(languages[lang].mean[m] or 0.0 for lang in high) / len(high)
        lo = sum(languages[lang].mean[m] or 0.0 for lang in low) / len(low)
        by_metric[m] = ClassMeans(high=h, low=lo, gap=h - lo, relative_gap=clean((h - lo) / h) if h else None)
    primary = names[0]
    samples = [[per_query[q][primary] for q in by_lang.get(lang, [])] for lang in high + low]
    topics = [[judgments.topic(q) for q in by_lang.get(lang, [])] for lang in high + low]
    k = len(high)

    def statistics(ms):
        import numpy as np

        h, lo = np.mean(ms[:k], axis=0), np.mean(ms[k:], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"high": h, "low": lo, "gap": h - lo, "relative_gap": (h - lo) / h}

    if not resamples:
        return Summary(by_metric=by_metric, ci=dict.fromkeys(("high", "low", "gap", "relative_gap"), interval(None)))
    ci = topic_bootstrap_ci(samples, topics, statistics, resamples=resamples, seed=seed + 1000)
    return Summary(by_metric=by_metric, ci={k: interval(v) for k, v in ci.items()})
