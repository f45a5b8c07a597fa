"""`clir-bench leaderboard check`: the whole submissions store validated, as the hosting
repository's CI runs it on every proposed change to `submissions/`.

Every entry must be a submission folder of a built-in track (metadata checked by the store's
rules) whose run validates against that track's test split with no error; a recorded noise
diagnosis must read. Problems are listed with their place (`TRACK/NAME/run.trec.gz:LINE` for a
run) and the command exits non-zero; warnings (absent queries, tied scores) are listed and do
not fail the check. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_LINES = 20  # problems listed per run: the rest are counted


@dataclass
class CheckReport:
    entries: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_store(root: Path, *, progress=None) -> CheckReport:
    """Validate every entry of the store at `root` (see the module docstring)."""
    from clir_bench.core.errors import ClirBenchError
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.evaluation.validation import scan_run
    from clir_bench.leaderboard.store import DIAGNOSIS, discover, load_diagnosis
    from clir_bench.tracks.track import builtin

    root = Path(root)
    subs, bad = discover(root)
    report = CheckReport(entries=len(subs) + len(bad))
    report.errors += [f"{b.where}: {b.reason}" for b in bad]
    tracks, judgments = builtin(), {}
    for sub in subs:
        if progress:
            progress(sub.where)
        track = tracks.get(sub.track)
        if sub.meta["track_version"] != track.version:
            report.errors.append(f"{sub.where}/metadata.json: found track_version {sub.meta['track_version']}, "
                                 f"expected {track.version} (the track's current version); rerun and resubmit")
            continue
        j = judgments.setdefault(sub.track, from_track(track))
        where = f"{sub.where}/{sub.run.name}"
        try:
            scan = scan_run(sub.run, j.spec)
        except ClirBenchError as e:
            report.errors.append(f"{where}: {e}")
            continue
        lines = scan.errors.lines(where)
        report.errors += lines[:MAX_LINES] + ([f"{where}: {len(lines) - MAX_LINES} more error(s)"]
                                              if len(lines) > MAX_LINES else [])
        for found, expected in j.absent(set(scan.qids)):
            scan.warnings.add(0, found, expected)
        report.warnings += scan.warnings.lines(where)[:MAX_LINES]
    for path in sorted(root.glob(f"*/{DIAGNOSIS}")):
        if load_diagnosis(path) is None:
            report.errors.append(f"{path.relative_to(root)}: found a file that is not a recorded noise diagnosis, "
                                 "expected `clir-bench diagnose --record`'s JSON; record it again or remove it")
    return report
