"""How much of a topic-level difference between two trained systems is training noise, and what
more seeds would buy.

Reads a `clir-bench run --seeds N --out DIR` folder (SYSTEM.trec for seed 0, SYSTEM.seed-K.trec
for the others). For system A − system B, per topic (a paragraph asked in every language is one
unit) on the low mean and the gap: the seed-by-seed difference, its MDD (alpha 0.05, power 0.8)
and paired t; the difference of the seed means; and a one-way decomposition of the per-topic
difference's variance over seeds, Var = between topics + within (seed noise), which predicts
the MDD of the mean over n seeds as MDD(sqrt(between + within / n), topics) (Sakai 2016's
topic-set-size design with the seed as a nested factor). The same seed index trains both systems
on the same batch order, so each seed is a pair.

    python experiments/seed_power.py DIR [--track noise-0.0] [--a optical-sinkhorn] [--b encoder-ft]
"""

import argparse
import statistics
from pathlib import Path

import pytrec_eval
from scipy import stats

import clir_bench
from clir_bench.evaluation.compare import mdd, units_needed
from clir_bench.evaluation.stats import paired_t


def read_run(path: Path) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    for line in path.read_text().splitlines():
        q, _, d, _, s, _ = line.split()
        run.setdefault(q, {})[d] = float(s)
    return run


def topic_means(run, judgments) -> dict[str, dict[str, float]]:
    """{topic: {"low": mean AP of its low-resource queries, "gap": high mean − low mean}}."""
    ap = pytrec_eval.RelevanceEvaluator(judgments.qrels, {"map"}).evaluate(run)
    groups: dict[str, dict[str, list[float]]] = {}
    for q, lang in judgments.lang_of.items():
        groups.setdefault(judgments.topic(q), {}).setdefault(judgments.classes[lang], []).append(
            ap.get(q, {}).get("map", 0.0))
    return {t: {"low": statistics.fmean(g["low"]), "gap": statistics.fmean(g["high"]) - statistics.fmean(g["low"])}
            for t, g in groups.items() if "low" in g and "high" in g}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--track", default="noise-0.0")
    ap.add_argument("--a", default="optical-sinkhorn")
    ap.add_argument("--b", default="encoder-ft")
    args = ap.parse_args()
    judgments = clir_bench.load_judgments(track=args.track)
    seeds = sorted({0, *(int(p.name.split(".seed-")[1].split(".")[0])
                         for p in args.folder.glob(f"{args.a}.seed-*.trec"))})
    if len(seeds) < 2:
        raise SystemExit(f"{args.folder}: need runs of at least 2 seeds (clir-bench run --seeds N)")

    def means(system: str, seed: int):
        name = f"{system}.trec" if seed == 0 else f"{system}.seed-{seed}.trec"
        return topic_means(read_run(args.folder / name), judgments)

    a, b = {s: means(args.a, s) for s in seeds}, {s: means(args.b, s) for s in seeds}
    topics = sorted(set.intersection(*(set(a[s]) for s in seeds)))
    print(f"{args.track}: {args.a} − {args.b}, {len(seeds)} seeds, {len(topics)} topics")
    print("| statistic | seed | difference [95% t interval] | SD over topics | MDD | p (paired t) |")
    print("|---|---|---|---|---|---|")
    half = stats.t.ppf(0.975, len(topics) - 1) / len(topics) ** 0.5  # times the SD: the t interval's half-width

    def estimate(d: list[float], sd: float) -> str:
        m = statistics.fmean(d)
        return f"{m:+.4f} [{m - half * sd:+.4f}, {m + half * sd:+.4f}]"

    for row in ("low", "gap"):
        diffs = {s: [a[s][t][row] - b[s][t][row] for t in topics] for s in seeds}
        for s in seeds:
            sd = statistics.stdev(diffs[s])
            p = paired_t([a[s][t][row] for t in topics], [b[s][t][row] for t in topics])["p"]
            print(f"| {row} | {s} | {estimate(diffs[s], sd)} | {sd:.4f} | {mdd(sd, len(topics)):.4f} | {p:.2g} |")
        mean_d = [statistics.fmean(diffs[s][i] for s in seeds) for i in range(len(topics))]
        sd = statistics.stdev(mean_d)
        p = paired_t(mean_d, [0.0] * len(topics))["p"]
        print(f"| {row} | mean of {len(seeds)} | {estimate(mean_d, sd)} | {sd:.4f} | {mdd(sd, len(topics)):.4f} "
              f"| {p:.2g} |")
    print("\n| statistic | seed share of a single seed's variance | predicted MDD for 1 / 3 / 10 / ∞ seeds | "
          "topics for 0.01 with ∞ seeds |")
    print("|---|---|---|---|")
    for row in ("low", "gap"):
        diffs = {s: [a[s][t][row] - b[s][t][row] for t in topics] for s in seeds}
        within = statistics.fmean(statistics.variance([diffs[s][i] for s in seeds]) for i in range(len(topics)))
        single = statistics.fmean(statistics.variance(diffs[s]) for s in seeds)
        between = max(single - within, 0.0)
        predicted = " / ".join(f"{mdd((between + within / n) ** 0.5, len(topics)):.4f}" for n in (1, 3, 10))
        floor = mdd(between ** 0.5, len(topics)) if between else 0.0
        print(f"| {row} | {within / single:.0%} | {predicted} / {floor:.4f} | "
              f"{units_needed(between ** 0.5, 0.01) if between else '–'} |")


if __name__ == "__main__":
    main()
