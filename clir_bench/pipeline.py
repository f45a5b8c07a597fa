"""`clir-bench run`: run systems on a track, write and score their runs, record them.

For each system: its run goes to OUT/SYSTEM.trec, its scored report (the same as
`clir-bench score`) to OUT/SYSTEM.json, and the run to the reference submission
SUBMISSIONS/TRACK/SYSTEM/ (`clir_bench.leaderboard.store`). OUT/results.json holds every system's
summary with provenance; a system that cannot run is listed with the reason, never a number.

A cross-validated track runs each system once per fold (on that fold's bitext, dev and
documents) and joins the folds' rankings into one run. `folds=[f]` runs one fold alone: a smoke
test, scored on that fold and never recorded. `seeds=N` trains N seeds of every seeded system
(`seeded = True`: the distilled students); the first seed's run is the one written and
recorded, and the report gives the primary metric's low/high/gap per seed, their mean and SD.
`diagnose=True` then reads each trained system's signals on its training pairs against the
noise manifest (`clir_bench.noise_diagnosis`): OUT/diagnostics.json, recorded beside the runs as
SUBMISSIONS/TRACK/diagnostics.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from clir_bench import __version__
from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import write_text_atomic
from clir_bench.evaluation.judgments import from_track
from clir_bench.evaluation.scoring import score_run
from clir_bench.leaderboard.store import record_reference
from clir_bench.systems import Context, SystemResult, default_systems, get_system, registry, write_run
from clir_bench.tracks.track import select_folds


def parse_systems(spec: str | None) -> list[str]:
    """Comma-separated system names (each must be registered), or every reference system."""
    if spec is not None and not spec.strip(", "):
        raise ClirBenchError(f"--systems {spec!r} names no system; leave it out for every reference system, or "
                             "name them, e.g. --systems bm25,encoder-zs")
    names = [s.strip() for s in spec.split(",") if s.strip()] if spec is not None else default_systems()
    for name in names:
        registry().get(name)  # unknown names fail here, with a suggestion
    return names


@dataclass(frozen=True)
class SystemOutcome:
    """One system's part of a `clir-bench run`: "ok" with its scores, or why it did not run."""

    status: str  # "ok", or "not run: <reason>"
    seconds: float
    primary: str | None = None  # the primary metric's name
    summary: dict | None = None  # ScoreReport.to_dict()["summary"]: class means, gap, intervals
    languages: dict = field(default_factory=dict)  # language -> {primary: mean, "ci": [lo, hi]}
    info: dict = field(default_factory=dict)  # the system's provenance
    run_sha256: str | None = None
    seeds: dict | None = None  # `seed_spread` with --seeds N > 1

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        if not self.ok:
            return {"status": self.status, "seconds": self.seconds}
        return {k: v for k, v in asdict(self).items() if k != "seeds" or v is not None}


@dataclass(frozen=True)
class RunResults:
    """What `run_track` returns and writes as OUT/results.json (`to_dict`, `from_dict`)."""

    track: str
    track_version: int
    harness: str
    provenance: dict
    folds: list[int]
    systems: dict[str, SystemOutcome] = field(default_factory=dict)
    smoke: str | None = None  # a one-fold smoke test: never recorded
    diagnostics: dict | None = None  # with --diagnose: a summary of OUT/diagnostics.json

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        out["systems"] = {name: outcome.to_dict() for name, outcome in self.systems.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> RunResults:
        return cls(**{**data, "systems": {n: SystemOutcome(**o) for n, o in data["systems"].items()}})


def run_track(track, *, systems: list[str], ctx: Context, out: Path, submissions: Path | None,
              resamples: int = 10_000, folds: list[int] | None = None, seeds: int = 1,
              diagnose: bool = False, workers: int = 1) -> RunResults:
    """Run, score and record each system; return the results (also OUT/results.json).
    `workers` > 1 first trains the students that are not cached in that many CPU processes
    (`clir_bench.workers`); the systems then run in turn from the cache."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ClirBenchError(f"cannot create output folder {out}: {e.strerror}; choose a writable --out") from None
    parts, scored_on, smoke = select_folds(track, folds)
    if smoke:
        submissions = None  # a smoke test is never a submission to a cross-validated track
    judgments = from_track(scored_on)
    outcomes: dict[str, SystemOutcome] = {}
    if smoke:
        ctx.log(smoke)
    if workers > 1:
        from clir_bench.workers import plan, train_parallel

        # with --diagnose on a noisy track, a worker scores its student's training pairs while it has it
        train_parallel(track, plan(track, parts, systems=systems, ctx=ctx, seeds=seeds,
                                   signals=diagnose and track.noise.rate > 0), ctx=ctx, workers=workers)
    for name in systems:
        system = get_system(name)
        seed_list = [ctx.seed + k for k in range(seeds if getattr(system, "seeded", False) else 1)]
        per_seed = []
        for seed in seed_list:
            start = time.perf_counter()
            ctx.log(f"[{name}] running" + (f" (seed {seed})" if len(seed_list) > 1 else ""))
            result = _run_folds(system, parts, replace(ctx, seed=seed))
            per_seed.append((seed, result, round(time.perf_counter() - start, 1)))
            if result.rankings is None:
                break
        seed, result, seconds = per_seed[0]
        if result.rankings is None:
            outcomes[name] = SystemOutcome(status=result.not_run, seconds=seconds)
            ctx.log(f"[{name}] {result.not_run}")
            continue
        reports = []
        for seed, res, secs in per_seed:
            run_path = out / (f"{name}.trec" if seed == ctx.seed else f"{name}.seed-{seed}.trec")
            write_run(run_path, res.rankings, tag=name, depth=track.max_docs_per_query)
            report = score_run(run_path, judgments, resamples=resamples, seed=ctx.seed)
            report = replace(report, system={"name": name, "description": system.description, "seconds": secs,
                                             "seed": seed, **res.info})
            write_text_atomic(run_path.with_suffix(".json"), json.dumps(report.to_dict(), indent=1) + "\n")
            reports.append(report)
        report, run_path = reports[0], out / f"{name}.trec"
        primary = report.primary
        summary = report.to_dict()["summary"]
        outcomes[name] = SystemOutcome(
            status="ok", seconds=seconds, primary=primary, summary=summary, info=result.info,
            languages={lang: {primary: row.mean[primary], "ci": list(row.ci)}
                       for lang, row in report.languages.items()},
            run_sha256=report.run.sha256,
            seeds=seed_spread(reports, [s for s, _, _ in per_seed]) if len(reports) > 1 else None)
        if submissions is not None:
            ctx.log(f"[{name}] " + record_reference(root=submissions, track=track, name=recorded_name(system, ctx),
                                                    run=run_path,
                                                    description=system.description,
                                                    info={"seconds": seconds, **_scalars(result.info)}))
        s = report.summary
        ctx.log(f"[{name}] done in {seconds:.0f} s: " + (
            f"{primary} low {s.by_metric[primary].low:.3f}, high {s.by_metric[primary].high:.3f}" if s else
            ", ".join(f"{lang} {row.mean[primary]:.3f}" for lang, row in report.languages.items())))
    results = RunResults(track=track.name, track_version=track.version, harness=f"clir-bench {__version__}",
                         provenance=judgments.provenance, folds=[p.fold for p in parts if p.fold is not None],
                         systems=outcomes, smoke=smoke,
                         diagnostics=_diagnose(track, outcomes, ctx=ctx, out=out, submissions=submissions,
                                               folds=folds, workers=workers) if diagnose else None)
    write_text_atomic(out / "results.json", json.dumps(results.to_dict(), indent=1) + "\n")
    return results


def _diagnose(track, outcomes: dict[str, SystemOutcome], *, ctx: Context, out: Path, submissions: Path | None,
              folds: list[int] | None, workers: int = 1) -> dict:
    """The noise diagnosis of the systems that ran and score their training pairs; in words if none."""
    from clir_bench.noise_diagnosis import best_separators, diagnosable, diagnose_track, record_diagnosis

    names = diagnosable([n for n, r in outcomes.items() if r.ok])
    if not names:
        return {"status": "not run: none of these systems scores its training pairs"}
    report = diagnose_track(track, systems=names, ctx=ctx, folds=folds, workers=workers)
    write_text_atomic(out / "diagnostics.json", json.dumps(report.to_dict(), indent=1, allow_nan=False) + "\n")
    summary = {"status": "ok", "file": "diagnostics.json", "applicable": report.applicable,
               **({"smoke": report.smoke} if report.smoke else {})}
    if report.applicable:
        summary["best"] = [{k: row[k] for k in ("system", "signal", "auc", "auc_ci")}
                           for row in best_separators(report)]
    else:
        summary["reason"] = report.reason
    if submissions is not None:
        ctx.log("[diagnostics] " + record_diagnosis(report, root=submissions, track=track))
    return summary


def recorded_name(system, ctx: Context) -> str:
    """A reference submission's name: the system's, with the training protocol appended for a trained
    system under any protocol but the default (two protocols' students are two reference rows)."""
    from clir_bench.models.protocol import DEFAULT

    if ctx.protocol == DEFAULT or not getattr(system, "seeded", False):
        return system.name
    return f"{system.name}-{ctx.protocol}"


def _run_folds(system, parts, ctx: Context) -> SystemResult:
    """One system on every fold; the folds' rankings joined (each query appears in one fold)."""
    if len(parts) == 1:
        return system.run(parts[0], ctx)
    rankings, infos = {}, []
    for part in parts:
        ctx.log(f"  fold {part.fold}")
        result = system.run(part, ctx)
        if result.rankings is None:
            return result
        rankings.update(result.rankings)
        infos.append(result.info)
    shared = {k: v for k, v in infos[0].items() if all(i.get(k) == v for i in infos)}
    keys = dict.fromkeys(k for i in infos for k in i)  # in the systems' order: metadata stays byte-stable
    per_fold = {k: [i.get(k) for i in infos] for k in keys if k not in shared}
    return SystemResult(rankings, info={**shared, **({"per_fold": per_fold} if per_fold else {})})


def _scalars(info: dict) -> dict:
    """Provenance as recorded with a submission: scalars, and per-fold lists of scalars."""
    out = {k: v for k, v in info.items() if not isinstance(v, (dict, list))}
    for k, values in info.get("per_fold", {}).items():
        out[f"{k} (per fold)"] = ", ".join(str(v) for v in values)
    return out


def seed_spread(reports, seeds: list[int]) -> dict:
    """Per seed the primary metric's low mean, high mean and gap; their mean and sample SD."""
    import statistics

    primary = reports[0].primary
    rows = {"seeds": seeds}
    for key in ("low", "high", "gap"):
        values = [getattr(r.summary.by_metric[primary], key) if r.summary else None for r in reports]
        if None in values:
            continue
        rows[key] = {"values": values, "mean": statistics.fmean(values), "sd": statistics.stdev(values)}
    return rows
