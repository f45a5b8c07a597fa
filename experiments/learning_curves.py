"""Dev learning curves of the reference students: how long, and at what learning rate, must a
student train before its dev MAP stops moving?

Each curve is one student (a reference system's recipe and solver) on one fold of one track,
trained with a schedule whose end does not shape the curve (linear warm-up over one epoch, then
a constant learning rate) and without early stopping, for `--epochs` epochs of the fold's
bitext, with dev MAP per language every half epoch. Only the dev split is read; no test query.

A curve is written to `experiments/curves/<track>-f<fold>-<system>-lr<lr>-s<seed>.json` after
every evaluation, and a checkpoint every epoch under the cache, so an interrupted sweep resumes
where it stopped (`--resume`, the default) and a finished curve is never trained again.

    python experiments/learning_curves.py --plan noise-0.0:encoder-ft:1e-4 noise-0.0:encoder-ft:2e-4 ...
    python experiments/learning_curves.py --report        # the table of every stored curve
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import clir_bench

CURVES = Path(__file__).parent / "curves"
SYSTEMS = {"encoder-ft": ("no-ot", "sinkhorn"), "optical-sinkhorn": ("reference", "sinkhorn"),
           "optical-unbalanced": ("reference", "unbalanced"), "optical-emd": ("reference", "emd"),
           "optical-partial": ("reference", "partial")}


def curve_path(track: str, fold: int, system: str, lr: float, seed: int) -> Path:
    return CURVES / f"{track}-f{fold}-{system}-lr{lr:g}-s{seed}.json"


def summary(maps: dict[str, float], classes: dict[str, str]) -> dict[str, float]:
    """Mean dev MAP over all languages, the low- and high-resource means and the gap."""
    low = [v for k, v in maps.items() if classes[k] == "low"]
    high = [v for k, v in maps.items() if classes[k] == "high"]
    lo, hi = sum(low) / len(low), sum(high) / len(high)
    return {"mean": sum(maps.values()) / len(maps), "low": lo, "high": hi, "gap": hi - lo}


def train_curve(spec: str, *, fold: int, epochs: float, seed: int, encoder) -> Path:
    from clir_bench.core.cache import cache_dir
    from clir_bench.core.files import write_text_atomic
    from clir_bench.models.optical import Trainer, recipe

    track_name, system, lr = spec.split(":")
    lr = float(lr)
    path = curve_path(track_name, fold, system, lr, seed)
    if path.is_file() and json.loads(path.read_text())["finished"]:
        print(f"{path.name}: finished, skipped", flush=True)
        return path
    track = {t.fold: t for t in clir_bench.load_track(track_name).fold_tracks()}[fold]
    bitext, _ = track.noisy_bitext()
    pairs = [p for lang in track.languages for p in bitext[lang]]
    recipe_name, solver = SYSTEMS[system]
    per_epoch = max(1, len(pairs) // 16)
    half = max(1, per_epoch // 2)
    steps = int(round(epochs * per_epoch / half)) * half
    config = recipe(recipe_name, solver=solver, seed=seed, lr=lr, max_steps=steps, eval_every=half,
                    patience=10**9, warmup=per_epoch, schedule="constant")
    out_dir = cache_dir() / "curves" / path.stem
    trainer = Trainer(encoder, [p.text for p in pairs], [p.english for p in pairs], config, dev=track.data("dev"),
                      out_dir=out_dir, progress=False, english_queries=track.collection.english_queries,
                      log=lambda *a: print(*a, flush=True))
    classes = dict(track.languages)
    started = time.perf_counter()

    def write(result, finished: bool = False) -> None:
        record = {"track": track_name, "fold": fold, "system": system, "recipe": recipe_name, "solver": solver,
                  "seed": seed, "lr": lr, "pairs": len(pairs), "steps_per_epoch": per_epoch,
                  "config": dataclasses.asdict(config), "config_key": config.key(), "finished": finished,
                  "history": [{"step": h["step"], "epoch": round(h["step"] / per_epoch, 3),
                               "loss": h.get("loss"), **summary(h["dev_map"], classes),
                               "dev_map": h["dev_map"]} for h in result.history]}
        write_text_atomic(path, json.dumps(record, indent=1) + "\n")
        last = record["history"][-1]
        print(f"{path.stem} step {last['step']}/{steps} mean {last['mean']:.4f} low {last['low']:.4f} "
              f"high {last['high']:.4f} gap {last['gap']:.4f} ({time.perf_counter() - started:.0f} s)", flush=True)

    result = trainer.train(resume=True, checkpoint_every=per_epoch, on_eval=write)
    write(result, finished=True)
    (out_dir / "checkpoint.pt").unlink(missing_ok=True)
    return path


def smoothed(values: list[float], width: int = 3) -> list[float]:
    """A trailing moving average (the first points over what there is): a single evaluation moves
    by about +-0.01 between neighbours, a protocol should not chase that."""
    return [sum(values[max(0, i - width + 1):i + 1]) / len(values[max(0, i - width + 1):i + 1])
            for i in range(len(values))]


def plateau(hist: list[dict], *, gain: float = 0.002) -> dict:
    """The smallest budget (an evaluation, from the first trained one on) whose last 20 % of steps
    improve the smoothed dev MAP by less than `gain`: best smoothed value up to the budget minus
    the best up to 80 % of it."""
    steps = [h["step"] for h in hist]
    smooth = smoothed([h["mean"] for h in hist])
    for i in range(2, len(hist)):
        budget = steps[i]
        before = max(v for s, v in zip(steps, smooth, strict=True) if s <= 0.8 * budget)
        upto = max(smooth[:i + 1])
        if upto - before < gain:
            return {"epoch": hist[i]["epoch"], "step": budget, "smoothed": upto, "gain": upto - before}
    return {"epoch": None, "step": None, "smoothed": max(smooth), "gain": None}


def curves_table(curves: list[dict]) -> str:
    """One markdown row per curve: dev mean MAP at chosen epochs, the best evaluation and the plateau."""
    lines = ["| track | system | lr | dev mean MAP at epochs 0, 0.5, 1, 1.5, 2, 3, 5, 7.5, 10 "
             "| best (epoch): mean / low / gap | plateau (smoothed) |", "|---|---|---|---|---|---|"]
    for r in curves:
        hist = r["history"]
        pick = [h for h in hist if round(h["epoch"] * 2) / 2 in (0, 0.5, 1, 1.5, 2, 3, 5, 7.5, 10)]
        best = max(hist[1:] or hist, key=lambda h: h["mean"])
        p = plateau(hist)
        where = f"epoch {p['epoch']:.1f} ({p['smoothed']:.3f})" if p["epoch"] is not None else "not reached"
        state = "" if r["finished"] else " (running)"
        values = " ".join(f"{h['mean']:.3f}" for h in pick)
        at_best = f"{best['epoch']:.1f}: {best['mean']:.3f} / {best['low']:.3f} / {best['gap']:.3f}"
        lines.append(f"| {r['track']} | {r['system']} | {r['lr']:g}{state} | {values} | {at_best} | {where} |")
    return "\n".join(lines)


def report(markdown: bool = False) -> None:
    """Every stored curve: mean / low / high / gap per evaluation, the best evaluation and the
    plateau (`plateau`); `markdown` prints `curves_table` for docs/findings.md instead."""
    curves = [json.loads(p.read_text()) for p in sorted(CURVES.glob("*.json"))]
    if markdown:
        print(curves_table(curves))
        return
    for r in curves:
        hist = r["history"]
        best = max(hist[1:] or hist, key=lambda h: h["mean"])
        print(f"\n{r['track']}-f{r['fold']}-{r['system']}-lr{r['lr']:g} ({'finished' if r['finished'] else 'running'}; "
              f"{r['pairs']} pairs, {r['steps_per_epoch']} steps an epoch)")
        print("epoch  " + " ".join(f"{h['epoch']:>5.1f}" for h in hist))
        for key in ("mean", "low", "high", "gap"):
            print(f"{key:<6} " + " ".join(f"{h[key]:.3f}" for h in hist))
        print("smooth " + " ".join(f"{v:.3f}" for v in smoothed([h["mean"] for h in hist])))
        p = plateau(hist)
        print(f"best: epoch {best['epoch']} (step {best['step']}) mean {best['mean']:.4f} low {best['low']:.4f} "
              f"gap {best['gap']:.4f}; plateau: {p}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", nargs="*", default=[], help="TRACK:SYSTEM:LR, trained in this order")
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--epochs", type=float, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="with --report: one table for docs/findings.md")
    args = ap.parse_args()
    if args.report:
        report(markdown=args.markdown)
        return
    from clir_bench.models.encoder import E5_SMALL, Encoder, resolve

    encoder = Encoder(resolve(E5_SMALL))
    for spec in args.plan:
        train_curve(spec, fold=args.fold, epochs=args.epochs, seed=args.seed, encoder=encoder)


if __name__ == "__main__":
    main()
