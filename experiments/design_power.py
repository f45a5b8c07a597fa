"""What a design can detect: for optical-sinkhorn against encoder-ft, encoder-zs and
optical-unbalanced, the low mean and the gap of MAP with the topic-level paired difference,
its 95% interval, Holm-corrected p and the minimum detectable difference (alpha 0.05, power 0.8;
`clir_bench.evaluation.compare`), and the queries per language and documents per query (the
median ranked by optical-sinkhorn's run).

    python experiments/design_power.py LABEL=TRACK=RUNS [LABEL=TRACK=RUNS ...]

TRACK is a track name or file; RUNS a folder of SYSTEM/run.trec.gz (a submissions folder) or
SYSTEM.trec files (a `clir-bench run --out` folder). For the version-1 design, write the old
track file and runs out of git history, e.g.

    git show 0daad7a:clir_bench/data/tracks/noise-0.3.toml > /tmp/v1.toml
    for s in optical-sinkhorn encoder-ft encoder-zs optical-unbalanced; do mkdir -p /tmp/v1/$s;
      git show 0daad7a:submissions/noise-0.3/$s/run.trec.gz > /tmp/v1/$s/run.trec.gz; done
    python experiments/design_power.py v1=/tmp/v1.toml=/tmp/v1 v2=noise-0.3=submissions/noise-0.3
"""

import statistics
import sys
from pathlib import Path

import clir_bench
from clir_bench.core.files import open_text

A = "optical-sinkhorn"
OTHERS = ("encoder-ft", "encoder-zs", "optical-unbalanced")


def run_file(root: Path, system: str) -> Path:
    for candidate in (root / system / "run.trec.gz", root / system / "run.trec", root / f"{system}.trec"):
        if candidate.is_file():
            return candidate
    raise SystemExit(f"no run of {system} under {root}")


def main() -> None:
    print("| design | queries / language | documents / query | B | row | A − B [95% CI] | p (Holm) | MDD |")
    print("|---|---|---|---|---|---|---|---|")
    for spec in sys.argv[1:]:
        label, track_name, root = spec.split("=", 2)
        track = clir_bench.load_track(track_name)
        judgments = clir_bench.load_judgments(track=track)
        per_lang = {}
        for lang in judgments.lang_of.values():
            per_lang[lang] = per_lang.get(lang, 0) + 1
        ranked = {}
        with open_text(run_file(Path(root), A)) as f:
            for line in f:
                ranked[line.split()[0]] = ranked.get(line.split()[0], 0) + 1
        docs = statistics.median(ranked.values())  # what the design's queries rank
        queries = f"{min(per_lang.values())}–{max(per_lang.values())} × {len(per_lang)} languages"
        report = {s: clir_bench.score(run_file(Path(root), s), judgments=judgments, resamples=2000)
                  for s in (A, *OTHERS)}
        for b in OTHERS:
            rows = clir_bench.compare(report[A], report[b], judgments=judgments, names=(A, b), resamples=2000,
                           only={"low mean", "gap"}).rows
            for r in rows:
                print(f"| {label} | {queries} | {docs:g} | {b} | {r.group} ({r.n} topics) | {r.diff:+.3f} "
                      f"[{r.ci[0]:+.3f}, {r.ci[1]:+.3f}] | {r.p_t_holm:.3f} | {r.mdd:.3f} |")


if __name__ == "__main__":
    main()
