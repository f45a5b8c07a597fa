"""Early-stopping patience, replayed on the dev histories of cached students.

Every cached student records its dev MAP per language at each evaluation (`student.json`'s
`dev_history`). Training is deterministic and the learning-rate schedule depends on
`max_steps` only, so a student trained with a smaller patience follows the same trajectory and
stops at the first evaluation that patience allows: replaying the rule on the recorded
histories says, without training, which chosen step (hence which student and which reference
run) would change, and how many training steps and dev evaluations it saves. The decision uses
dev MAP only; no test score is read.

    python experiments/patience.py [--cache ~/.cache/clir-bench ...] [--patience 1] [--select-untrained]

`--select-untrained` replays the rule before 2026-11-27, when step 0 (the untrained encoder) could
be kept; without it, as `Trainer.train` now does, step 0 is recorded but never kept.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from clir_bench.core.cache import cache_dir


def replay(history: list[dict], patience: int, *, select_untrained: bool = False) -> tuple[int, int]:
    """(chosen step, last step run) of early stopping with `patience` on one dev history,
    as `Trainer.train` applies it: best mean dev MAP (step 0 a candidate only with
    `select_untrained`), stop after `patience` evaluations without improvement."""
    best, chosen, bad, last = float("-inf"), 0, 0, history[-1]["step"]
    for h in history:
        if not h["step"] and not select_untrained:
            continue
        score = sum(h["dev_map"].values()) / len(h["dev_map"])
        if score > best:
            best, chosen, bad = score, h["step"], 0
        elif h["step"]:
            bad += 1
            if bad >= patience:
                return chosen, h["step"]
    return chosen, last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, nargs="+", default=[cache_dir()])
    ap.add_argument("--patience", type=int, default=1)
    ap.add_argument("--select-untrained", action="store_true", help="step 0 may be kept (the rule before 2026-11-27)")
    args = ap.parse_args()
    records = [json.loads(p.read_text()) for c in args.cache for p in sorted(c.glob("students/*/student.json"))]
    records = [r for r in records if r.get("dev_history")]
    if not records:
        raise SystemExit(f"no student with a dev history under {', '.join(map(str, args.cache))}")
    changed, steps, evals, chosen = [], [0, 0], [0, 0], Counter()
    for r in records:
        step, last = replay(r["dev_history"], args.patience, select_untrained=args.select_untrained)
        chosen[step] += 1
        if step != r["best_step"]:
            changed.append(f"{r['system']} {r['track']} seed {r['seed']}: step {r['best_step']} -> {step}")
        steps[0] += r["steps_run"]
        steps[1] += last
        evals[0] += len(r["dev_history"]) - 1  # step 0 is shared, not paid per student
        evals[1] += sum(1 for h in r["dev_history"] if 0 < h["step"] <= last)
    n = len(records)
    print(f"{n} students ({', '.join(sorted({r['track'].split('-fold')[0] for r in records}))})")
    print(f"patience {args.patience}: chosen step differs in {len(changed)} of {n}")
    for line in changed:
        print("  " + line)
    print("chosen steps: " + ", ".join(f"{s}: {k}" for s, k in sorted(chosen.items())))
    print(f"training steps per student {steps[0] / n:.1f} -> {steps[1] / n:.1f}; "
          f"dev evaluations {evals[0] / n:.2f} -> {evals[1] / n:.2f}")


if __name__ == "__main__":
    main()
