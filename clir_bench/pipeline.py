"""`clir-bench run`: run systems on a track, write and score their runs, record them.

For each system: its run goes to OUT/SYSTEM.trec, its scored report (the same as
`clir-bench score`) to OUT/SYSTEM.json, and the run to the reference submission
SUBMISSIONS/TRACK/SYSTEM/ (`clir_bench.leaderboard.store`). OUT/results.json holds every system's
summary with provenance; a system that cannot run is listed with the reason, never a number.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from clir_bench import __version__
from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import write_text_atomic
from clir_bench.evaluation.judgments import from_track
from clir_bench.evaluation.scoring import score_run
from clir_bench.leaderboard.store import record_reference
from clir_bench.systems import Context, default_systems, get_system, registry, write_run


def parse_systems(spec: str | None) -> list[str]:
    """Comma-separated system names (each must be registered), or every reference system."""
    names = [s.strip() for s in spec.split(",") if s.strip()] if spec else default_systems()
    for name in names:
        registry().get(name)  # unknown names fail here, with a suggestion
    return names


def run_track(track, *, systems: list[str], ctx: Context, out: Path, submissions: Path | None,
              resamples: int = 10_000) -> dict:
    """Run, score and record each system; return the results document (also OUT/results.json)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ClirBenchError(f"cannot create output folder {out}: {e.strerror}; choose a writable --out") from None
    judgments = from_track(track)
    results = {"track": track.name, "track_version": track.version, "harness": f"clir-bench {__version__}",
               "provenance": judgments.provenance, "systems": {}}
    for name in systems:
        system = get_system(name)
        start = time.perf_counter()
        ctx.log(f"[{name}] running")
        result = system.run(track, ctx)
        seconds = round(time.perf_counter() - start, 1)
        if result.rankings is None:
            results["systems"][name] = {"status": result.not_run, "seconds": seconds}
            ctx.log(f"[{name}] {result.not_run}")
            continue
        run_path = out / f"{name}.trec"
        write_run(run_path, result.rankings, tag=name, depth=track.max_docs_per_query)
        report = score_run(run_path, judgments, resamples=resamples, seed=ctx.seed)
        report = replace(report, system={"name": name, "description": system.description, "seconds": seconds,
                                         **result.info})
        write_text_atomic(out / f"{name}.json", json.dumps(report.to_dict(), indent=1) + "\n")
        primary = report.primary
        summary = report.to_dict()["summary"]
        results["systems"][name] = {"status": "ok", "seconds": seconds, "primary": primary, "summary": summary,
                                    "languages": {lang: {primary: row.mean[primary], "ci": list(row.ci)}
                                                  for lang, row in report.languages.items()},
                                    "info": result.info, "run_sha256": report.run.sha256}
        if submissions is not None:
            ctx.log(f"[{name}] " + record_reference(root=submissions, track=track, name=name, run=run_path,
                                                    description=system.description,
                                                    info={"seconds": seconds, **result.info}))
        s = report.summary
        ctx.log(f"[{name}] done in {seconds:.0f} s: " + (
            f"{primary} low {s.by_metric[primary].low:.3f}, high {s.by_metric[primary].high:.3f}" if s else
            ", ".join(f"{lang} {row.mean[primary]:.3f}" for lang, row in report.languages.items())))
    write_text_atomic(out / "results.json", json.dumps(results, indent=1) + "\n")
    return results
