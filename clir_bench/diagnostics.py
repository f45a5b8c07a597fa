"""`clir-bench diagnose`: does each OT technique see which bitext pairs the track corrupted?

Every track knows its corrupted pairs (the noise manifest). A system that can score its
training pairs (a `diagnose(track, ctx)` method: the OPTICAL family and its no-OT control)
gives, per pair and per model (the trained student, and step 0: the encoder before
training), its signals: transported mass and OT cost <P, C> (where the recipe has OT), the
anchor and contrastive terms and the pair's total loss. Each signal is read as a detector of
corrupted pairs (less mass, more cost or loss = more suspect): ROC AUC and average precision
with 95% bootstrap intervals over pairs (`clir_bench.evaluation.detection`), overall, per
language and per noise kind. Over hundreds of pairs this has far more power than 14 queries
per language. Clean bitext (rate 0) has nothing to detect: "not applicable", never a number.
"""

from __future__ import annotations

from clir_bench.core.errors import ClirBenchError
from clir_bench.evaluation.detection import detect
from clir_bench.systems import Context, get_system

# +1: a higher value suggests a corrupted pair; -1: a lower one (moved mass, the weight it earns)
DIRECTION = {"mass": -1, "weight": -1, "ot_cost": 1, "anchor": 1, "contrastive": 1, "loss": 1}


def diagnosable(names: list[str]) -> list[str]:
    return [n for n in names if hasattr(get_system(n), "diagnose")]


def diagnose_track(track, *, systems: list[str], ctx: Context, resamples: int = 1000) -> dict:
    """Detection of the track's corrupted pairs by every signal of every system; a JSON-ready report.
    A cross-validated track pools every fold's training pairs (ids `fold-F/ID`), each scored by the
    student of its own fold."""
    parts = track.fold_tracks()
    prefix = {part.fold: f"fold-{part.fold}/" if track.cross_validated else "" for part in parts}
    kind_of, n_pairs = {}, 0
    for part in parts:
        bitext, manifest = part.noisy_bitext()
        kind_of.update({(c.lang, prefix[part.fold] + c.id): c.kind for c in manifest})
        n_pairs += sum(len(v) for v in bitext.values())
    report = {"track": track.name, "track_version": track.version, "noise": track.noise.describe(),
              "bitext_sha256": track.bitext_sha256(), "corrupted": len(kind_of), "pairs": n_pairs, "rows": [],
              "skipped": {}}
    if not kind_of:
        report["applicable"] = False
        report["reason"] = "not applicable: the bitext is clean (no corrupted pair to detect)"
        return report
    report["applicable"] = True
    for name in systems:
        system = get_system(name)
        if not hasattr(system, "diagnose"):
            report["skipped"][name] = "the system scores no training pairs"
            continue
        ctx.log(f"[{name}] scoring {report['pairs']} training pairs")
        pairs, models = [], {}
        for part in parts:
            out = system.diagnose(part, ctx)
            pairs += [(lang, prefix[part.fold] + pid) for lang, pid in out["pairs"]]
            for model, signals in out["models"].items():
                for signal, values in signals.items():
                    models.setdefault(model, {}).setdefault(signal, []).extend(values)
        groups = {"all": list(range(len(pairs)))}
        for i, (lang, pid) in enumerate(pairs):
            groups.setdefault(f"lang {lang}", []).append(i)
        kinds = sorted(set(kind_of.values()))
        if len(kinds) > 1:  # per kind: its corrupted pairs against every clean pair
            clean = [i for i, p in enumerate(pairs) if p not in kind_of]
            for kind in kinds:
                groups[f"kind {kind}"] = clean + [i for i, p in enumerate(pairs) if kind_of.get(p) == kind]
        labels = [p in kind_of for p in pairs]
        for model, signals in models.items():
            for signal, values in signals.items():
                sign = DIRECTION.get(signal, 1)
                for group, idx in groups.items():
                    d = detect([sign * values[i] for i in idx], [labels[i] for i in idx], resamples=resamples,
                               seed=len(report["rows"]))
                    report["rows"].append({"system": name, "model": model, "signal": signal, "group": group,
                                           **d.to_dict()})
    return report


def best_separators(report: dict) -> list[dict]:
    """Per system, its trained student's best signal overall (by AUC), with its interval."""
    best: dict[str, dict] = {}
    for row in report.get("rows", []):
        if row["group"] == "all" and row["model"] == "trained" and row["auc"] is not None:
            if row["system"] not in best or row["auc"] > best[row["system"]]["auc"]:
                best[row["system"]] = row
    return sorted(best.values(), key=lambda r: -r["auc"])


def check_systems(names: list[str]) -> list[str]:
    chosen = diagnosable(names)
    if not chosen:
        raise ClirBenchError(f"none of {', '.join(names)} scores training pairs; diagnose the OPTICAL systems "
                             "(optical-*) or the no-OT control (encoder-ft)")
    return chosen
