"""`clir-bench diagnose`: does each OT technique see which bitext pairs the track corrupted?

Every track knows its corrupted pairs (the noise manifest). A system that can score its
training pairs (a `diagnose(track, ctx)` method: the OPTICAL family and its no-OT control)
gives, per pair and per model (the trained student, and step 0: the encoder before
training), its signals: transported mass and OT cost <P, C> (where the recipe has OT), the
anchor and contrastive terms and the pair's total loss. Each signal is read as a detector of
corrupted pairs (less mass, more cost or loss = more suspect): ROC AUC and average precision
with 95% bootstrap intervals over pairs (`clir_bench.evaluation.noise_detection`), overall, per
language and per noise kind. Over hundreds of pairs this has far more power than 14 queries
per language. Clean bitext (rate 0) has nothing to detect: "not applicable", never a number.

Which technique detects best is a paired question (the same pairs under every technique):
`comparisons` holds each pair of techniques' trained total loss, and each OT signal against
the no-OT control's loss, as paired-bootstrap AUC differences with Holm's correction over
that family (`clir_bench.evaluation.noise_detection.compare_detectors`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.parallel import call, pmap, usable_cores
from clir_bench.evaluation.noise_detection import compare_detectors, detect
from clir_bench.evaluation.stats import holm
from clir_bench.systems import Context, get_system

# +1: a higher value suggests a corrupted pair; -1: a lower one (moved mass, the weight it earns)
DIRECTION = {"mass": -1, "weight": -1, "ot_cost": 1, "anchor": 1, "contrastive": 1, "loss": 1}
DIGITS = 4  # recorded precision: a rerun whose forward passes differ in the 7th digit leaves the file alone
P_DIGITS = 6
PROVENANCE = ("recipe", "solver", "config_key", "encoder", "encoder_revision")
CONTROL_RECIPE = "no-ot"  # the no-OT control (found by its recipe): OT signals are compared with its loss
OT_SIGNALS = ("mass", "ot_cost")
# A signal whose values span less than this (relative to its size) is constant up to float rounding:
# balanced OT's mass (1) and partial OT's (its set share), and at step 0 the anchor term (the student
# is the teacher: 0). Its "AUC" would be rounding noise that moves by up to 0.075 between reruns;
# it is listed as constant instead. Measured spans: < 1e-6 for these, >= 0.06 for every other signal.
CONSTANT_SPAN = 1e-5
PARALLEL_PAIRS = 50_000  # pairs over all bootstraps from which they run on every core (noise-0.3: ~610,000)


@dataclass(frozen=True)
class Diagnosis:
    """What `diagnose_track` returns: detection rows (AUC and AP of each system's signal, per group),
    constant signals, paired detector comparisons and provenance. `to_dict()` is the JSON that
    `diagnose --json` prints and `--record` keeps (key order as recorded); `from_dict` reads it."""

    track: str
    track_version: int
    noise: str
    bitext_sha256: str
    corrupted: int
    pairs: int
    rows: list[dict] = field(default_factory=list)
    constant: list[dict] = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    smoke: str | None = None  # one fold alone: never recorded
    applicable: bool = True
    reason: str | None = None  # why not applicable
    systems: dict | None = None  # provenance per system
    comparisons: list[dict] | None = None

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_dict(cls, data: dict) -> Diagnosis:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def diagnosable(names: list[str]) -> list[str]:
    return [n for n in names if hasattr(get_system(n), "diagnose")]


def diagnose_track(track, *, systems: list[str], ctx: Context, resamples: int = 1000,
                   folds: list[int] | None = None, workers: int = 1, bootstrap_workers: int | None = None
                   ) -> Diagnosis:
    """Detection of the track's corrupted pairs by every signal of every system (`Diagnosis`).
    A cross-validated track pools every fold's training pairs (ids `fold-F/ID`), each scored by the
    student of its own fold; `folds=[f]` reads one fold alone (labelled, never recorded).
    `workers` > 1 scores the students without stored signals in that many CPU processes first;
    the bootstraps run in `bootstrap_workers` processes (default: every usable core; they are
    pure functions of their pairs and seeds, so the report is the same however many)."""
    from clir_bench.tracks.track import select_folds

    parts, _, smoke = select_folds(track, folds)
    if smoke:
        smoke = f"fold {parts[0].fold} only: that fold's training pairs, not every fold's; never recorded"
    prefix = {part.fold: f"fold-{part.fold}/" if track.cross_validated else "" for part in parts}
    kind_of, n_pairs = {}, 0
    for part in parts:
        bitext, manifest = part.noisy_bitext()
        kind_of.update({(c.lang, prefix[part.fold] + c.id): c.kind for c in manifest})
        n_pairs += sum(len(v) for v in bitext.values())
    report = {"track": track.name, "track_version": track.version, "noise": track.noise.describe(),
              "bitext_sha256": track.bitext_sha256(), "corrupted": len(kind_of), "pairs": n_pairs, "rows": [],
              "constant": [], "skipped": {}, **({"smoke": smoke} if smoke else {})}
    if not kind_of:
        report["applicable"] = False
        report["reason"] = "not applicable: the bitext is clean (no corrupted pair to detect)"
        return Diagnosis.from_dict(report)
    report["applicable"] = True
    if workers > 1:
        from clir_bench.workers import plan, train_parallel

        train_parallel(track, plan(track, parts, systems=systems, ctx=ctx, signals=True), ctx=ctx, workers=workers)
    trained = {}  # system: {pair: {signal: value}} of the trained student, for the paired comparisons
    control = next((n for n in systems if getattr(get_system(n), "recipe", None) == CONTROL_RECIPE), None)
    rows, jobs = [], []  # each detection row, and what its bootstrap needs
    for name in systems:
        system = get_system(name)
        if not hasattr(system, "diagnose"):
            report["skipped"][name] = "the system scores no training pairs"
            continue
        ctx.log(f"[{name}] scoring {report['pairs']} training pairs")
        pairs, models, infos = [], {}, []
        for part in parts:
            out = system.diagnose(part, ctx)
            infos.append(out.get("info", {}))
            pairs += [(lang, prefix[part.fold] + pid) for lang, pid in out["pairs"]]
            for model, signals in out["models"].items():
                for signal, values in signals.items():
                    models.setdefault(model, {}).setdefault(signal, []).extend(values)
        groups = {"all": list(range(len(pairs)))}
        for i, (lang, _pid) in enumerate(pairs):
            groups.setdefault(f"lang {lang}", []).append(i)
        kinds = sorted(set(kind_of.values()))
        if len(kinds) > 1:  # per kind: its corrupted pairs against every clean pair
            clean = [i for i, p in enumerate(pairs) if p not in kind_of]
            for kind in kinds:
                groups[f"kind {kind}"] = clean + [i for i, p in enumerate(pairs) if kind_of.get(p) == kind]
        labels = [p in kind_of for p in pairs]
        report.setdefault("systems", {})[name] = {k: (infos[0][k] if all(i.get(k) == infos[0][k] for i in infos)
                                                     else [i.get(k) for i in infos])
                                                 for k in PROVENANCE if k in infos[0]}
        for model, signals in models.items():
            for signal, values in list(signals.items()):
                if constant(values):
                    report["constant"].append({"system": name, "model": model, "signal": signal,
                                               "value": sum(values) / len(values)})
                    del signals[signal]
                    continue
                sign = DIRECTION.get(signal, 1)
                for group, idx in groups.items():
                    rows.append({"system": name, "model": model, "signal": signal, "group": group})
                    jobs.append(functools.partial(detect, [sign * values[i] for i in idx],
                                                  [labels[i] for i in idx], resamples=resamples,
                                                  seed=_seed(name, model, signal, group)))
        trained[name] = {p: {sig: DIRECTION.get(sig, 1) * v[i] for sig, v in models.get("trained", {}).items()}
                         for i, p in enumerate(pairs)}
    # a test's p-value needs more resamples than an interval
    tests = comparisons_planned(trained, kind_of, resamples=2 * resamples, control=control)
    jobs += [t.pop("job") for t in tests]
    # the bootstraps of every row and test (noise-0.3: 540 of 500-7,000 pairs each), across the
    # cores: each is a pure function of its pairs and seed
    ctx.log(f"bootstrapping {len(rows)} detectors and {len(tests)} paired tests")
    if bootstrap_workers is None:  # starting processes (~1 s) pays only for many pairs
        bootstrap_workers = usable_cores() if sum(len(job.args[0]) for job in jobs) >= PARALLEL_PAIRS else 1
    results = pmap(call, jobs, workers=bootstrap_workers, cost=lambda job: len(job.args[0]))
    report["rows"] = [{**row, **d.to_dict()} for row, d in zip(rows, results[:len(rows)], strict=True)]
    report["comparisons"] = _with_holm([{**t, **d.to_dict()} for t, d in zip(tests, results[len(rows):], strict=True)])
    return Diagnosis.from_dict(report)


def constant(values) -> bool:
    """Whether `values` are one number up to float rounding (their span below CONSTANT_SPAN, relative)."""
    lo, hi = min(values), max(values)
    return hi - lo < CONSTANT_SPAN * max(1.0, abs(lo), abs(hi))


def comparisons(trained: dict, kind_of: dict, *, resamples: int = 2000, control: str | None = None) -> list[dict]:
    """Paired AUC differences of trained students over every pair (`comparisons_planned`), each
    with its paired-bootstrap interval and p-value; Holm over the family."""
    tests = comparisons_planned(trained, kind_of, resamples=resamples, control=control)
    return _with_holm([{**t, **job().to_dict()} for t in tests for job in [t.pop("job")]])


def _with_holm(rows: list[dict]) -> list[dict]:
    for row, p in zip(rows, holm([r["p"] for r in rows]), strict=True):
        row["p_holm"] = p
    return rows


def comparisons_planned(trained: dict, kind_of: dict, *, resamples: int, control: str | None = None) -> list[dict]:
    """The paired tests of a diagnosis, each with its bootstrap to run (`job`): each two techniques'
    total loss; each OT technique's mass and OT cost against the loss of `control` (the no-OT
    control's name); none of a signal that is `constant` (balanced and partial OT's mass)."""
    import itertools

    tests = [((a, "loss"), (b, "loss")) for a, b in itertools.combinations(sorted(trained), 2)]
    if control in trained:
        tests += [((name, sig), (control, "loss")) for name in sorted(trained) if name != control
                  for sig in OT_SIGNALS if sig in next(iter(trained[name].values()), {})]
    out = []
    for (a, sa), (b, sb) in tests:
        pairs = [p for p in trained[a] if p in trained[b] and sa in trained[a][p] and sb in trained[b][p]]
        x, y = [trained[a][p][sa] for p in pairs], [trained[b][p][sb] for p in pairs]
        if constant(x) or constant(y):
            continue
        out.append({"a": a, "a_signal": sa, "b": b, "b_signal": sb, "pairs": len(pairs),
                    "job": functools.partial(compare_detectors, x, y, [p in kind_of for p in pairs],
                                             resamples=resamples, seed=_seed(a, sa, b, sb))})
    return out


def _seed(*parts: str) -> int:
    """A bootstrap seed per row, whichever other systems a report holds (so rows merge)."""
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:8], 16)


def record_diagnosis(report: Diagnosis | dict, *, root: Path, track) -> str:
    """Keep `report` as the track's reference diagnosis, SUBMISSIONS/TRACK/diagnostics.json (read by
    the leaderboard's noise page): its systems' rows replace theirs, other systems' rows stay while
    the track version and bitext are the same; numbers rounded to DIGITS. Returns what happened."""
    from clir_bench.core.files import write_text_atomic
    from clir_bench.leaderboard.store import DIAGNOSIS, is_builtin, load_diagnosis, track_lock

    if not is_builtin(track):
        return f"not recorded: the leaderboard holds built-in tracks only, and {track.path} is not one"
    report = report.to_dict() if isinstance(report, Diagnosis) else report
    if report.get("smoke"):
        return f"not recorded: {report['smoke']}"
    path = Path(root) / track.name / DIAGNOSIS
    with track_lock(root, track.name):
        merged = _rounded(report)
        earlier = load_diagnosis(path)
        if earlier and all(earlier.get(k) == merged[k] for k in ("track_version", "bitext_sha256", "applicable")):
            mine = ({r["system"] for r in merged["rows"]} | set(merged.get("systems", {}))
                    | set(merged.get("skipped", {})))
            merged["rows"] = [r for r in earlier["rows"] if r["system"] not in mine] + merged["rows"]
            merged["constant"] = [c for c in earlier.get("constant", []) if c["system"] not in mine] + \
                merged.get("constant", [])
            merged["systems"] = {**{k: v for k, v in earlier.get("systems", {}).items() if k not in mine},
                                 **merged.get("systems", {})}
            merged["skipped"] = {**{k: v for k, v in earlier.get("skipped", {}).items() if k not in mine},
                                 **merged.get("skipped", {})}
            # a comparison needs both techniques scored together: earlier ones stay where neither was rescored
            merged["comparisons"] = [c for c in earlier.get("comparisons", []) if not {c["a"], c["b"]} & mine] + \
                merged.get("comparisons", [])
            for row, p in zip(merged["comparisons"], holm([c["p"] for c in merged["comparisons"]]), strict=True):
                row["p_holm"] = _rounded(p, "p_holm")
        merged["rows"].sort(key=lambda r: (r["system"], r["model"] != "trained", r["signal"], r["group"] != "all",
                                           r["group"]))
        merged["systems"] = dict(sorted(merged.get("systems", {}).items()))
        merged["constant"] = sorted(merged.get("constant", []), key=lambda c: (c["system"], c["model"] != "trained",
                                                                              c["signal"]))
        text = json.dumps(merged, indent=1, allow_nan=False) + "\n"
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return f"unchanged: {path}"
        write_text_atomic(path, text)
    return f"recorded as {path}"


def _rounded(value, key: str = ""):
    """Floats to DIGITS places; p-values to P_DIGITS, so that no p-value below 0.05 is recorded as
    0.05 (a bootstrap p of 2 (k + 1) / 2001 can lie within 1e-4 of it)."""
    if isinstance(value, float):
        return round(value, P_DIGITS if key in ("p", "p_holm") else DIGITS)
    if isinstance(value, dict):
        return {k: _rounded(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, key) for v in value]
    return value


def best_separators(report: Diagnosis | dict) -> list[dict]:
    """Per system, its trained student's best signal overall (by AUC), with its interval."""
    best: dict[str, dict] = {}
    for row in report.rows if isinstance(report, Diagnosis) else report.get("rows", []):
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

