"""The research question from the reference runs: per noise rate, each OT solver against the
no-OT control (encoder-ft) and against zero-shot (encoder-zs) on the low-resource mean and the
gap of MAP: topic-level paired differences with 95% intervals, paired t-tests Holm-corrected
over the rate's whole family (4 solvers x 2 baselines x 2 statistics), and the MDD; then each
system's gap per rate with its topic-bootstrap interval, and how its low mean and gap move from
the lowest rate to each higher one (the tracks share their test data, so the same topics pair;
Holm over every system's tests).

    python experiments/ot_vs_control.py [submissions] [noise-0.0 noise-0.3 ...]
"""

import sys
from pathlib import Path

import clir_bench
from clir_bench.evaluation.stats import holm
from clir_bench.leaderboard.store import discover

SOLVERS = ("optical-sinkhorn", "optical-emd", "optical-unbalanced", "optical-partial")
BASELINES = ("encoder-ft", "encoder-zs")


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "submissions")
    names = sys.argv[2:] or ["noise-0.0", "noise-0.1", "noise-0.3", "noise-0.5"]
    subs, _ = discover(root)
    gaps, by_rate = {}, {}
    print("| rate | OT solver | − baseline | statistic | difference [95% CI] | p (Holm, 16 tests) | MDD |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        track = clir_bench.load_track(name)
        mine = {s.name: s for s in subs if s.track == name and s.meta["track_version"] == track.version}
        if not all(n in mine for n in (*SOLVERS, *BASELINES)):
            print(f"| {track.noise.rate:g} | version-{track.version} reference runs missing | | | | | |")
            continue
        judgments = clir_bench.load_judgments(track=track)
        reports = {n: clir_bench.score(mine[n].run, judgments=judgments, resamples=2000)
                   for n in (*SOLVERS, *BASELINES)}
        by_rate[track.noise.rate] = (reports, judgments)
        for n, r in reports.items():
            gaps.setdefault(n, {})[track.noise.rate] = (r.summary.by_metric["map"].gap, r.summary.ci["gap"])
        rows = [(s, b, row) for s in SOLVERS for b in BASELINES
                for row in clir_bench.compare(reports[s], reports[b], judgments=judgments, resamples=2000,
                                   only={"low mean", "gap"}).rows]
        for (s, b, row), p in zip(rows, holm([row.p_t for _, _, row in rows]), strict=True):
            mark = " *" if p is not None and p < 0.05 else ""
            print(f"| {track.noise.rate:g} | {s} | {b} | {row.group} | {row.diff:+.3f} [{row.ci[0]:+.3f}, "
                  f"{row.ci[1]:+.3f}] | {p:.3f}{mark} | {row.mdd:.3f} |")
    rates = sorted({r for g in gaps.values() for r in g})
    print("\n| system | " + " | ".join(f"gap at {r:g}" for r in rates) + " |")
    print("|---|" + "---|" * len(rates))
    for n, per_rate in gaps.items():
        cells = [f"{per_rate[r][0]:.3f} [{per_rate[r][1][0]:.3f}, {per_rate[r][1][1]:.3f}]" if r in per_rate else "–"
                 for r in rates]
        print(f"| {n} | " + " | ".join(cells) + " |")
    if len(by_rate) < 2:
        return
    low, (base, judgments) = min(by_rate), by_rate[min(by_rate)]
    moves = [(n, r, row) for r in rates if r != low for n in base if n != "encoder-zs"  # untrained: the same run
             for row in clir_bench.compare(by_rate[r][0][n], base[n], judgments=judgments, resamples=2000,
                                           only={"low mean", "gap"}).rows]
    print(f"\n| system | rate vs {low:g} | statistic | change [95% CI] | p (Holm) | MDD |")
    print("|---|---|---|---|---|---|")
    for (n, r, row), p in zip(moves, holm([row.p_t for _, _, row in moves]), strict=True):
        mark = " *" if p is not None and p < 0.05 else ""
        print(f"| {n} | {r:g} | {row.group} | {row.diff:+.3f} [{row.ci[0]:+.3f}, {row.ci[1]:+.3f}] | "
              f"{p:.3f}{mark} | {row.mdd:.3f} |")


if __name__ == "__main__":
    main()
