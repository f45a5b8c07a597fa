"""The noise-detection table from the recorded diagnoses (`clir-bench diagnose --record`): per technique and
signal, the trained student's detection AUC of the corrupted pairs with its 95% interval at each
noise rate (step 0 beside it); then per rate the techniques ordered by their trained loss (the
one signal every technique has), the recorded paired tests (paired-bootstrap AUC differences,
Holm), and that order beside the retrieval order (low-resource mean MAP of the same reference
runs; Kendall's tau).

    python experiments/detection_table.py [submissions]
"""

import sys
from pathlib import Path

from scipy.stats import kendalltau

import clir_bench
from clir_bench.evaluation.stats import ALPHA, format_p
from clir_bench.leaderboard.store import DIAGNOSIS, discover
from clir_bench.leaderboard.store import load_diagnosis as load

TRACKS = ("noise-0.0", "noise-0.1", "noise-0.3", "noise-0.5")


def fmt(row) -> str:
    return f"{row['auc']:.3f} [{row['auc_ci'][0]:.3f}, {row['auc_ci'][1]:.3f}]"


def step0(by_model: dict) -> str:
    return f"{by_model['step 0']['auc']:.3f}" if "step 0" in by_model else "constant"


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "submissions")
    reports = {}
    for name in TRACKS:
        report = load(root / name / DIAGNOSIS)
        track = clir_bench.load_track(name)
        if report is None or report["track_version"] != track.version or report["bitext_sha256"] != \
                track.bitext_sha256():
            print(f"{name}: no current diagnosis recorded")
            continue
        reports[name] = report
    rates = {n: clir_bench.load_track(n).noise.rate for n in reports}
    cells = {}
    for name, report in reports.items():
        for r in report["rows"]:
            if r["group"] == "all":
                cells.setdefault((r["system"], r["signal"]), {}).setdefault(name, {})[r["model"]] = r
    print("| technique | signal | " + " | ".join(f"AUC at {rates[n]:g} (step 0)" for n in reports) + " |")
    print("|---|---|" + "---|" * len(reports))
    for (system, signal), by in sorted(cells.items()):
        print(f"| {system} | {signal} | " + " | ".join(
            (f"{fmt(by[n]['trained'])} ({step0(by[n])})" if "trained" in by.get(n, {}) else
             "n/a" if not reports[n]["applicable"] else "–") for n in reports) + " |")
    constant = sorted({(c["system"], c["model"], c["signal"]) for r in reports.values() for c in r.get("constant", [])})
    if constant:
        print("\nconstant by construction, no detector: " + ", ".join(
            f"{system} {signal}" + ("" if model == "trained" else f" at {model}")
            for system, model, signal in constant))
    subs, _ = discover(root)
    for name, report in reports.items():
        if not report["applicable"]:
            print(f"\n{name}: not applicable (clean bitext)")
            continue
        loss = {system: by[name]["trained"] for (system, signal), by in cells.items()
                if signal == "loss" and "trained" in by.get(name, {})}
        order = sorted(loss, key=lambda s: -loss[s]["auc"])
        print(f"\n{name}: by trained loss AUC: " + ", ".join(f"{s} {fmt(loss[s])}" for s in order))
        for c in report.get("comparisons", []):
            verdict = (f"{c['a'] if c['diff'] > 0 else c['b']} better" if c["p_holm"] < ALPHA else "no difference")
            print(f"  {c['a']} {c['a_signal']} - {c['b']} {c['b_signal']}: {c['diff']:+.4f} "
                  f"[{c['diff_ci'][0]:+.4f}, {c['diff_ci'][1]:+.4f}], p Holm {format_p(c['p_holm'])}: {verdict}")
        ranking = [c for c in report.get("comparisons", []) if c["a_signal"] == c["b_signal"] == "loss"]
        clear = [c for c in ranking if c["p_holm"] < ALPHA]
        print(f"  techniques' losses: {len(clear)} of {len(ranking)} paired differences significant after Holm"
              + ("" if len(clear) == len(ranking) else ": the detection order is not a ranking the data support")
              + (f"; largest |difference| {max(abs(c['diff']) for c in ranking):.4f} AUC" if ranking else ""))
        track = clir_bench.load_track(name)
        runs = {s.name: s for s in subs if s.track == name and s.meta["track_version"] == track.version}
        if all(s in runs for s in order):
            judgments = clir_bench.load_judgments(track=track)
            low = {s: clir_bench.score(runs[s].run, judgments=judgments, resamples=200).summary.by_metric["map"].low
                   for s in order}
            retrieval = sorted(order, key=lambda s: -low[s])
            # tau-b on the values: AUCs tied at their recorded precision count as ties, not as an order
            tau = kendalltau([loss[s]["auc"] for s in order], [low[s] for s in order])
            print("  by retrieval (low mean MAP): " + ", ".join(f"{s} {low[s]:.3f}" for s in retrieval)
                  + f"; Kendall tau {tau.statistic:+.2f} (p {tau.pvalue:.2f}, {len(order)} techniques)")


if __name__ == "__main__":
    main()
