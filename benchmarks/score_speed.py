"""Scoring speed and memory: `clir-bench score` end to end against the tools a researcher
would otherwise use, on synthetic runs of 5,000 queries x 1,000 documents (5M lines) and
2,000 x 500 (1M lines): trec_eval 10 (the C reference, `-c`, the same five measures),
pytrec_eval fed by the plainest Python parser (the same five measures, no checks, no
intervals: the floor of any harness built on pytrec_eval, whose input is {qid: {docid: score}}
dicts), ranx and ir_measures (MAP only).

Each tool runs as its own process, 3 times (median wall and CPU time, user + system of the
process and its children). Memory is the peak, sampled every 10 ms, of the summed PSS
(proportional set size, /proc/PID/smaps_rollup) of the process and its children: a page shared
by a forked worker and its parent counts once in all, as it does in the machine's memory, where a
summed RSS would count it once per process. PSS divides each shared page (a library's, say) among
the processes that map it, so for one process it is at most its RSS. Every tool must agree on
MAP. trec_eval is not a Python package: build it from its source
(https://github.com/usnistgov/trec_eval, `make`) and pass `--trec-eval PATH` (default:
`trec_eval` on PATH; without one its rows say "not run").

    python benchmarks/score_speed.py [--sizes 5000x1000 2000x500] [--trec-eval PATH] [--before CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

PYTREC = """
import sys, pytrec_eval
qrels = {}
for line in open(sys.argv[2]):
    q, _, d, r = line.split()
    qrels.setdefault(q, {})[d] = int(r)
run, cur = {}, None
for line in open(sys.argv[1]):
    q, _, d, _, s, _ = line.split()
    if q != cur:
        cur, docs = q, run.setdefault(q, {})
    docs[d] = float(s)
measures = {"map", "ndcg_cut.10", "P.10", "recall.100", "recip_rank"}
res = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
print(sum(res.get(q, {"map": 0.0})["map"] for q in qrels) / len(qrels))
"""

RANX = """
import sys
from ranx import Qrels, Run, evaluate
qrels = Qrels.from_file(sys.argv[2], kind="trec")
run = Run.from_file(sys.argv[1], kind="trec")
print(evaluate(qrels, run, "map", make_comparable=True))
"""

IR_MEASURES = """
import sys, ir_measures
from ir_measures import AP
qrels = list(ir_measures.read_trec_qrels(sys.argv[2]))
run = ir_measures.read_trec_run(sys.argv[1])
per_q = {m.query_id: m.value for m in ir_measures.iter_calc([AP], qrels, run)}
qids = {q.query_id for q in qrels}
print(sum(per_q.get(q, 0.0) for q in qids) / len(qids))
"""


def make_data(queries: int, docs: int) -> tuple[Path, Path]:
    """A grouped, tie-free run with ~50 judged documents per query (30 retrieved)."""
    run, qrels = OUT / f"run-{queries}x{docs}.trec", OUT / f"qrels-{queries}x{docs}.txt"
    if run.exists() and qrels.exists():
        return run, qrels
    OUT.mkdir(exist_ok=True)
    rng = random.Random(0)
    with open(run, "w") as fr, open(qrels, "w") as fq:
        for q in range(queries):
            ids = rng.sample(range(2_000_000), docs + 20)
            retrieved, unretrieved = ids[:docs], ids[docs:]
            fr.writelines(f"xx-{q} Q0 d{d} {r} {docs - r + rng.random() * 0.5:.6f} bench\n"
                          for r, d in enumerate(retrieved, 1))
            fq.writelines(f"xx-{q} 0 d{d} {rng.randint(0, 2)}\n"
                          for d in rng.sample(retrieved, min(30, docs)) + unretrieved)
    return run, qrels


def _tree_pss(pid: int) -> int:
    """Summed PSS in bytes of `pid` and its descendants (shared pages split among their sharers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:")) * 1024
        except (OSError, StopIteration):
            pass
        stack += children.get(p, [])
    return total


def measure(cmd: list[str], cwd: str | None = None) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system of the process and its children), peak PSS, stdout;
    `cwd`: a checkout whose `clir_bench` the command imports (python puts its working folder first)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_pss(proc.pid))
        time.sleep(0.01)
    wall = time.perf_counter() - start
    out, err = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        raise SystemExit(f"{cmd[:3]} failed: {err[-2000:]}")
    return wall, cpu, peak, out


def trec_eval_map(out: str) -> float:
    return next(float(line.split()[2]) for line in out.splitlines() if line.split()[:2] == ["map", "all"])


def bench(queries: int, docs: int, *, repeat: int, trec_eval: str | None, before: str | None = None) -> dict:
    run, qrels = make_data(queries, docs)
    report = OUT / "clir-bench.json"
    py = sys.executable
    tools = {
        "clir-bench score (validate + 5 measures + CIs)": (
            [py, "-m", "clir_bench", "score", str(run), "--qrels", str(qrels), "--output", str(report)],
            lambda out: json.loads(report.read_text())["languages"]["xx"]["mean"]["map"]),
        "trec_eval 10 -c (5 measures)": (
            [trec_eval, "-c", "-m", "map", "-m", "ndcg_cut.10", "-m", "P.10", "-m", "recall.100", "-m",
             "recip_rank", str(qrels), str(run)] if trec_eval else None, trec_eval_map),
        "pytrec_eval + plain parser (5 measures)": ([py, "-c", PYTREC, str(run), str(qrels)], float),
        "ranx (MAP, JIT warm)": ([py, "-c", RANX, str(run), str(qrels)], float),
        "ir_measures read_trec_* (MAP)": ([py, "-c", IR_MEASURES, str(run), str(qrels)], float),
    }
    if before:  # the same command from another checkout (e.g. a git worktree of an earlier commit)
        tools[f"clir-bench score at {Path(before).name} (before)"] = (
            [py, "-m", "clir_bench", "score", str(run), "--qrels", str(qrels), "--output", str(report)],
            tools[next(iter(tools))][1])
    lines = sum(1 for _ in open(run))
    print(f"\n{lines:,} run lines ({queries:,} queries x {docs:,}), {sum(1 for _ in open(qrels)):,} judgments, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    results = {}
    for name, (cmd, read_map) in tools.items():
        if cmd is None:
            print(f"{name:48s} not run: no trec_eval binary (build it and pass --trec-eval PATH)")
            continue
        try:
            cwd = before if name.endswith("(before)") else None
            if "ranx" in name:
                measure(cmd)  # the first call compiles numba kernels
            runs = [measure(cmd, cwd) for _ in range(repeat)]
        except SystemExit as e:
            print(f"{name:48s} not run: {str(e).splitlines()[-1]} (pip install -e '.[bench]')")
            continue
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        peak = max(r[2] for r in runs)
        results[name] = (wall, cpu, peak, read_map(runs[-1][3].strip()))
        print(f"{name:48s} {wall:6.2f} s wall {cpu:6.2f} s CPU {peak / 2**20:7.0f} MiB  MAP {results[name][3]:.6f}",
              flush=True)
    ours = results[next(iter(tools))]
    for base_name in ("trec_eval 10 -c (5 measures)", "pytrec_eval + plain parser (5 measures)",
                      *(n for n in results if n.endswith("(before)"))):
        if base := results.get(base_name):
            print(f"clir-bench / {base_name.split(' (')[0]}: wall {ours[0] / base[0]:.2f}x, "
                  f"CPU {ours[1] / base[1]:.2f}x, memory {ours[2] / base[2]:.2f}x")
    maps = {round(r[3], 4) for r in results.values()}  # trec_eval prints 4 decimals
    print("MAP agrees across tools" if len(maps) == 1 else f"MAP DISAGREES: {maps}")
    return results


TRACK_RUN = Path(__file__).resolve().parents[1] / "submissions" / "noise-0.3" / "encoder-ft" / "run.trec.gz"


def fixed_costs(*, repeat: int, before: str | None) -> None:
    """What every call pays: a track's own reference run scored against the track (23,560 lines,
    goal 0.5 s) and `score --help` (goal 0.3 s), median wall of `repeat` runs, beside the bare
    interpreter's start and, with `before`, the other checkout's."""
    py = sys.executable
    cases = {
        "score a track's reference run": [py, "-m", "clir_bench", "score", str(TRACK_RUN), "--track", "noise-0.3",
                                          "--output", str(OUT / "track-run.json")],
        "score --help": [py, "-m", "clir_bench", "score", "--help"],
        "python -c pass (the interpreter)": [py, "-c", "pass"],
    }
    print(f"\nfixed costs, median wall of {repeat}")
    for name, cmd in cases.items():
        for cwd in (None, before) if before and "clir_bench" in cmd else (None,):
            wall = statistics.median(measure(cmd, cwd)[0] for _ in range(repeat))
            print(f"{name + (' (before)' if cwd else ''):48s} {wall:6.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["5000x1000", "2000x500"], help="QUERIESxDOCS per run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--trec-eval", default=shutil.which("trec_eval"), help="a trec_eval binary")
    ap.add_argument("--before", help="another checkout (e.g. `git worktree add ../old COMMIT`) whose `score` runs "
                                     "beside this one's, for before/after ratios in one run")
    args = ap.parse_args()
    fixed_costs(repeat=max(5, args.repeat), before=args.before)
    for size in args.sizes:
        queries, docs = (int(x) for x in size.lower().split("x"))
        bench(queries, docs, repeat=args.repeat, trec_eval=args.trec_eval, before=args.before)


if __name__ == "__main__":
    main()
