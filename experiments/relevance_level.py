"""Which relevance level should MAP use? Decided on dev, never on test.

UDHR qrels grade the query's own paragraph 2 and the other paragraphs of its article 1. At
level 1 (trec_eval's default, the tracks' MAP) every paragraph of the article counts; at level
2 only the paragraph itself, and MAP is the reciprocal rank of that one document. For every
pair of dense reference systems (students from the cache: run the track first), on the dev
queries of every fold: topic-level paired t-test of the low-resource mean (a paragraph asked in
several languages is one topic), and per level the discriminative power (Sakai 2006): how many
of the pairs differ significantly (alpha 0.05), and the median ratio |difference| / MDD.

    python experiments/relevance_level.py [--track noise-0.1]
"""

import argparse
import itertools
import statistics
from dataclasses import replace

import pytrec_eval

import clir_bench
from clir_bench.core.cache import cache_dir
from clir_bench.evaluation.compare import mdd
from clir_bench.evaluation.stats import paired_t
from clir_bench.models.retrieval import dense_run
from clir_bench.systems import Context, get_system

SYSTEMS = ("encoder-zs", "encoder-ft", "optical-sinkhorn", "optical-emd", "optical-unbalanced", "optical-partial")


def dev_runs(track, ctx, *, extra_docs: dict[str, str] | None = None):
    """{system: {qid: {docid: score}}} on every fold's dev queries, and {qid: (lang, topic)}, qrels.
    `extra_docs` join every query's pool (distractors: judged non-relevant by absence)."""
    from clir_baselines.dense import encoder

    runs, where, qrels = {s: {} for s in SYSTEMS}, {}, {}
    enc = encoder(ctx)
    docs = ctx.shared(("docs", id(enc)), dict)
    pools = {}  # id of a fold's pool -> (that pool, kept alive so its id stays unique; it with extra_docs)
    for part in track.fold_tracks():
        dev = part.data("dev")
        if extra_docs:
            for pair in dev.values():
                pools.setdefault(id(pair.docs), (pair.docs, {**pair.docs, **extra_docs}))
            dev = {lang: replace(pair, docs=pools[id(pair.docs)][1]) for lang, pair in dev.items()}
        for lang, pair in dev.items():
            qrels.update(pair.qrels)
            where.update({q: (lang, f"fold-{part.fold}/{pair.topics[q]}") for q in pair.qrels})
        for name in SYSTEMS:
            student = None if name == "encoder-zs" else get_system(name)._student(part, ctx)[0]
            runs[name].update(dense_run(enc, dev, student=student, doc_cache=docs))
            print(f"  fold {part.fold} {name}", flush=True)
    return runs, where, qrels


def low_means(run, qrels, where, languages, level):
    """{topic: mean AP over the low-resource languages that ask it} at relevance `level`."""
    ap = pytrec_eval.RelevanceEvaluator(qrels, {"map"}, relevance_level=level).evaluate(run)
    by_topic = {}
    for q, (lang, topic) in where.items():
        if languages[lang] == "low":
            by_topic.setdefault(topic, []).append(ap.get(q, {}).get("map", 0.0))
    return {t: statistics.fmean(v) for t, v in by_topic.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--track", default="noise-0.1")
    args = ap.parse_args()
    track = clir_bench.load_track(args.track)
    ctx = Context(cache=cache_dir(), log=lambda *a: None)
    runs, where, qrels = dev_runs(track, ctx)
    print(f"{track.name} dev: {len(where)} queries, {len({t for _, t in where.values()})} topics")
    print("| level | mean low MAP per system | pairs significant (of 15) | median abs(diff) / MDD |")
    print("|---|---|---|---|")
    for level in (1, 2):
        means = {s: low_means(runs[s], qrels, where, track.languages, level) for s in SYSTEMS}
        significant, ratios = 0, []
        for a, b in itertools.combinations(SYSTEMS, 2):
            topics = sorted(means[a])
            d = [means[a][t] - means[b][t] for t in topics]
            test = paired_t([means[a][t] for t in topics], [means[b][t] for t in topics])
            significant += test["p"] is not None and test["p"] < 0.05
            m = mdd(statistics.stdev(d), len(d))
            ratios.append(abs(statistics.fmean(d)) / m if m else 0.0)
        print(f"| {level} | " + ", ".join(f"{s} {statistics.fmean(means[s].values()):.3f}" for s in SYSTEMS)
              + f" | {significant} | {statistics.median(ratios):.2f} |")


if __name__ == "__main__":
    main()
