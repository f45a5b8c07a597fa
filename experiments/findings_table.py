"""The checked tables of docs/findings.md, computed from the recorded reference runs in
`submissions/`: per track and reference system the mean over languages, the low and high means and
the gap of MAP; then each OT solver minus the no-OT control on the low mean and the gap over topics
(`clir_bench.compare`: the estimate, its 95% interval, the paired t-test's p before and after Holm
over the track's solver x statistic family, and the MDD); and how each trained system's low mean
and gap move from noise 0.0 to 0.5. A test recomputes them and compares
them with the document, so the findings cannot go stale.

    python experiments/findings_table.py [submissions]           # prints the tables
    python experiments/findings_table.py --write docs/findings.md  # rewrites its checked tables
"""

from __future__ import annotations

from pathlib import Path

import clir_bench

TRACKS = ("noise-0.0", "noise-0.1", "noise-0.3", "noise-0.5")
SYSTEMS = ("bm25", "psq", "encoder-zs", "encoder-ft", "optical-sinkhorn", "optical-emd", "optical-unbalanced",
           "optical-partial")
CONTROL, SOLVERS = "encoder-ft", ("optical-sinkhorn", "optical-emd", "optical-unbalanced", "optical-partial")


def _run(root: Path, track: str, system: str) -> Path | None:
    found = sorted((root / track / system).glob("run.trec*"))
    return found[0] if found else None


def results_table(root: Path) -> str:
    rows = ["| track | system | mean | low | high | gap |", "|---|---|---|---|---|---|"]
    for track in TRACKS:
        judged = clir_bench.load_judgments(track=track)
        for system in [*SYSTEMS, *(f"{s}-standard" for s in (CONTROL, *SOLVERS))]:
            run = _run(root, track, system)
            if run is None:
                continue
            r = clir_bench.score(run, judgments=judged, resamples=0)
            m = r.summary.by_metric[r.primary]
            rows.append(f"| {track} | {system} | {r.macro_mean:.3f} | {m.low:.3f} | {m.high:.3f} | {m.gap:.3f} |")
    return "\n".join(rows)


def ot_table(root: Path, protocol: str = "") -> str:
    """OT - control per track, for the quick protocol's references or (`protocol="standard"`) those
    recorded as SYSTEM-standard; Holm over each track's tests."""
    from clir_bench.evaluation.stats import holm

    suffix = f"-{protocol}" if protocol else ""
    rows = ["| track | OT − control | statistic | estimate [95% CI] | p | p Holm | MDD |",
            "|---|---|---|---|---|---|---|"]
    for track in TRACKS:
        judged = clir_bench.load_judgments(track=track)
        control = _run(root, track, CONTROL + suffix)
        tests = []
        for solver in SOLVERS:
            run = _run(root, track, solver + suffix)
            if run is None or control is None:
                continue
            c = clir_bench.compare(run, control, judgments=judged, resamples=10_000, only={"low mean", "gap"})
            tests += [(solver, row) for row in c.rows]
        for (solver, row), p_holm in zip(tests, holm([row.p_t for _, row in tests]), strict=True):
            lo, hi = row.ci
            rows.append(f"| {track} | {solver} | {row.group} | {row.diff:+.3f} [{lo:+.3f}, {hi:+.3f}] | "
                        f"{row.p_t:.3f} | {p_holm:.3f} | {row.mdd:.3f} |")
    return "\n".join(rows)


def noise_table(root: Path, low: str = "noise-0.0", high: str = "noise-0.5") -> str:
    """Each trained reference system at the highest noise rate minus itself at the lowest, on the
    low mean and the gap, per protocol: the tracks share their test queries, so the difference is
    paired over topics (`clir_bench.compare`; Holm over the table's tests)."""
    from clir_bench.evaluation.stats import holm

    judged = clir_bench.load_judgments(track=high)
    tests = []
    for system in [*(s for s in SYSTEMS if s.startswith(("encoder-ft", "optical"))),
                   *(f"{s}-standard" for s in (CONTROL, *SOLVERS))]:
        a, b = _run(root, high, system), _run(root, low, system)
        if a is None or b is None:
            continue
        c = clir_bench.compare(a, b, judgments=judged, resamples=10_000, only={"low mean", "gap"})
        tests += [(system, row) for row in c.rows]
    rows = [f"| system | statistic | {high} − {low} [95% CI] | p | p Holm | MDD |", "|---|---|---|---|---|---|"]
    for (system, row), p_holm in zip(tests, holm([row.p_t for _, row in tests]), strict=True):
        lo, hi = row.ci
        rows.append(f"| {system} | {row.group} | {row.diff:+.3f} [{lo:+.3f}, {hi:+.3f}] | {row.p_t:.3f} | "
                    f"{p_holm:.3f} | {row.mdd:.3f} |")
    return "\n".join(rows)


def main() -> None:
    import argparse
    import re

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submissions", nargs="?", type=Path, default=Path("submissions"))
    ap.add_argument("--write", type=Path, help="a document whose checked tables to rewrite")
    args = ap.parse_args()
    tables = {"results": results_table(args.submissions), "ot": ot_table(args.submissions),
              "ot_standard": ot_table(args.submissions, "standard"), "noise": noise_table(args.submissions)}
    if args.write is None:
        print("\n\n".join(tables.values()))
        return
    text = args.write.read_text("utf-8")
    for name, table in tables.items():
        pattern = rf"(<!-- checked: {name} -->\n).*?(<!-- end checked -->)"  # an empty block too
        text = re.sub(pattern, lambda m, table=table: m[1] + table + "\n" + m[2], text, flags=re.S)
    args.write.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
