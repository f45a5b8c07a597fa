"""Leaderboard rebuild time for N synthetic submissions (default 200, over the four noise tracks):
a cold build (empty score cache), a cached rebuild, and, for scale, the bare minimum a researcher
would otherwise run: pytrec_eval over the same runs (parse + evaluate MAP, no validation, no
intervals, no tests, no pages).

Each command runs as its own process, 3 times (median wall time); memory is the process's peak
RSS (getrusage of the child). Usage: python benchmarks/leaderboard_build.py [--submissions N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "out" / "leaderboard"
sys.path.insert(0, str(ROOT / "tests" / "data"))

PYTREC = """
import sys, glob, pytrec_eval
from clir_bench.tracks.track import get_track
from clir_bench.evaluation.judgments import from_track
qrels = {}
for name in ("noise-0.0", "noise-0.1", "noise-0.3", "noise-0.5"):
    qrels[name] = from_track(get_track(name)).qrels
total = 0
for path in sorted(glob.glob(sys.argv[1] + "/*/*/run.trec")):
    track = path.split("/")[-3]
    run = {}
    for line in open(path):
        q, _, d, _, s, _ = line.split()
        run.setdefault(q, {})[d] = float(s)
    res = pytrec_eval.RelevanceEvaluator(qrels[track], {"map"}).evaluate(run)
    total += 1
print(total)
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process (os.wait4 gives that child's own rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    from synthetic_store import make_store

    ap = argparse.ArgumentParser()
    ap.add_argument("--submissions", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    tracks = ("noise-0.0", "noise-0.1", "noise-0.3", "noise-0.5")
    shutil.rmtree(OUT, ignore_errors=True)
    store = OUT / "submissions"
    made = make_store(store, systems=args.submissions // len(tracks), tracks=tracks, references=3,
                      scratch=OUT / "scratch")
    site = OUT / "site"
    build = [sys.executable, "-m", "clir_bench", "leaderboard", "build", "--submissions", str(store), "--out",
             str(site)]
    results = {"cold": [], "cached": [], "pytrec_eval": []}
    for _ in range(args.repeats):
        shutil.rmtree(site, ignore_errors=True)
        results["cold"].append(timed(build))
        results["cached"].append(timed(build))
        results["pytrec_eval"].append(timed([sys.executable, "-c", PYTREC, str(store)]))
    pages = len(list(site.rglob("index.html")))
    summary = {k: {"seconds": statistics.median(s for s, _ in v), "peak_rss_mib": max(m for _, m in v)}
               for k, v in results.items()}
    summary["submissions"] = len(made)
    summary["pages"] = pages
    print(f"{len(made)} synthetic submissions on {len(tracks)} tracks, {pages} pages; median of {args.repeats}")
    for k in ("cold", "cached", "pytrec_eval"):
        print(f"  {k:12} {summary[k]['seconds']:6.2f} s  {summary[k]['peak_rss_mib']:5.0f} MiB")
    print(f"  cold / pytrec_eval-only scoring: {summary['cold']['seconds'] / summary['pytrec_eval']['seconds']:.2f}x; "
          f"cached / cold: {summary['cached']['seconds'] / summary['cold']['seconds']:.2f}x")
    (OUT / "results.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
