"""OPTICAL recipes and OT solvers on the embedded default, chosen and read on the dev split.

For each noise track, trains every variant (early stopping on dev MAP, never on test), then
reports dev MAP per language at the chosen step with 95% bootstrap intervals, paired
bootstrap differences on the low- and high-resource means (variant - zero-shot, and
variant - the same recipe without OT), and the test MAP of the chosen student, computed
once and used for nothing. Results: experiments/out/optical_dev.json (one entry per run,
appended as runs finish, so an interrupted sweep keeps what it did).

    python experiments/optical_dev.py [--tracks noise-0.0,noise-0.3] [--max-steps 120]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

import clir_bench
from clir_bench.evaluation.metrics import ap_per_query
from clir_bench.evaluation.stats import bootstrap_ci
from clir_bench.models.encoder import E5_SMALL, Encoder, resolve
from clir_bench.models.optical import TeacherCache, Trainer, recipe
from clir_bench.models.retrieval import dense_run

OUT = Path(__file__).parent / "out"
VARIANTS = [  # (name, recipe, solver)
    ("plain", "plain", "sinkhorn"),
    ("centred", "centred", "sinkhorn"),
    ("no-ot", "no-ot", "sinkhorn"),
    ("reference/sinkhorn", "reference", "sinkhorn"),
    ("reference/emd", "reference", "emd"),
    ("reference/unbalanced", "reference", "unbalanced"),
    ("reference/partial", "reference", "partial"),
    ("mass-weighted/unbalanced", "mass-weighted", "unbalanced"),
    ("mass-weighted/partial", "mass-weighted", "partial"),
]


def summarise(ap: dict[str, float], track, split_data) -> dict:
    langs = {lang: [ap[q] for q in pair.qrels if pair.qrels[q]] for lang, pair in split_data.items()}
    out = {lang: {"map": sum(v) / len(v), "ci": bootstrap_ci([v], lambda m: m[0], resamples=5000, seed=1)}
           for lang, v in langs.items()}
    for cls in ("low", "high"):
        members = track.of_class(cls)
        out[cls] = {"map": sum(out[lang]["map"] for lang in members) / len(members),
                    "ci": bootstrap_ci([langs[lang] for lang in members], lambda m: sum(m) / len(m),
                                       resamples=5000, seed=2)}
    return out


def paired(ap: dict, base: dict, track, split_data) -> dict:
    """Paired bootstrap (queries resampled within each language) of the class-mean difference."""
    out = {}
    for cls in ("low", "high"):
        diffs = [[ap[q] - base[q] for q in split_data[lang].qrels] for lang in track.of_class(cls)]
        mean = sum(sum(d) / len(d) for d in diffs) / len(diffs)
        out[cls] = {"diff": mean, "ci": bootstrap_ci(diffs, lambda m: sum(m) / len(m), resamples=5000, seed=3)}
    return out


def main() -> None:
    ap_ = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap_.add_argument("--tracks", default="noise-0.0,noise-0.3")
    ap_.add_argument("--variants", default=",".join(v[0] for v in VARIANTS))
    ap_.add_argument("--max-steps", type=int, default=120)
    ap_.add_argument("--eval-every", type=int, default=20)
    ap_.add_argument("--patience", type=int, default=2)
    args = ap_.parse_args()
    OUT.mkdir(exist_ok=True)
    results_path = OUT / "optical_dev.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else []
    done = {(r["track"], r["variant"]) for r in results}
    encoder = Encoder(resolve(E5_SMALL))
    wanted = [v for v in VARIANTS if v[0] in args.variants.split(",")]
    for track_name in args.tracks.split(","):
        track = clir_bench.load_track(track_name)
        dev, test = track.data("dev"), track.data("test")
        doc_cache: dict = {}
        zs_dev = ap_per_query(dense_run(encoder, dev, doc_cache=doc_cache), dev)
        zs_test = ap_per_query(dense_run(encoder, test, doc_cache=doc_cache), test)
        if (track_name, "zero-shot") not in done:
            results.append({"track": track_name, "variant": "zero-shot", "dev": summarise(zs_dev, track, dev),
                            "test": summarise(zs_test, track, test)})
            results_path.write_text(json.dumps(results, indent=1))
        bitext, _ = track.noisy_bitext()
        pairs = [p for lang in track.languages for p in bitext[lang]]
        teacher = TeacherCache.build(encoder, [p.english for p in pairs])
        aps = {}
        for name, rec, solver in wanted:
            if (track_name, name) in done:
                continue
            start = time.time()
            config = recipe(rec, solver=solver, max_steps=args.max_steps, eval_every=args.eval_every,
                            patience=args.patience)
            trainer = Trainer(encoder, [p.text for p in pairs], [p.english for p in pairs], config, dev=dev,
                              teacher=teacher, doc_cache=doc_cache, progress=False, log=lambda *a: None)
            result = trainer.train()
            dev_ap = ap_per_query(dense_run(encoder, dev, student=trainer.student, doc_cache=doc_cache), dev)
            test_ap = ap_per_query(dense_run(encoder, test, student=trainer.student, doc_cache=doc_cache), test)
            aps[name] = dev_ap
            entry = {"track": track_name, "variant": name, "recipe": rec, "solver": solver,
                     "config_key": config.key(), "best_step": result.best_step, "steps_run": result.steps_run,
                     "seconds": round(time.time() - start, 1), "history": result.history,
                     "dev": summarise(dev_ap, track, dev), "test": summarise(test_ap, track, test),
                     "dev_vs_zero_shot": paired(dev_ap, zs_dev, track, dev)}
            if name != "no-ot" and "no-ot" in aps:
                entry["dev_vs_no_ot"] = paired(dev_ap, aps["no-ot"], track, dev)
            results.append(entry)
            results_path.write_text(json.dumps(results, indent=1))
            d = entry["dev"]
            print(f"{track_name} {name:26s} step {result.best_step:3d}/{result.steps_run:3d} "
                  f"dev low {d['low']['map']:.3f} high {d['high']['map']:.3f} "
                  f"({entry['seconds']:.0f} s)", flush=True)
        del teacher
        torch.cuda.empty_cache() if torch.cuda.is_available() else None


if __name__ == "__main__":
    main()
