"""A synthetic submissions store for leaderboard tests and the rebuild benchmark.

Each system has a skill; a language's queries find their relevant documents with a
probability that falls with the noise rate, more for low-resource languages, so the
leaderboard's gap and noise charts have something real to show. Runs are written with
`clir_bench.leaderboard.store.store`, exactly as `clir-bench submit` stores them.
"""

from __future__ import annotations

import random
from pathlib import Path

from clir_bench.leaderboard.store import metadata, store
from clir_bench.tracks.track import get_track


def synthetic_run(track, *, skill: float, seed: int) -> str:
    rng = random.Random(seed)
    lines = []
    for lang, pair in ((lang, pair) for part in track.fold_tracks() for lang, pair in part.data("test").items()):
        low = track.languages[lang] == "low"
        p_hit = max(0.05, skill - (0.25 if low else 0.05) - track.noise.rate * (0.4 if low else 0.1))
        for q in pair.queries:
            relevant = set(pair.qrels.get(q, {}))
            scored = [(rng.random() + (1.0 if d in relevant and rng.random() < p_hit else 0.0), d) for d in pair.docs]
            for rank, (score, d) in enumerate(sorted(scored, reverse=True), 1):
                lines.append(f"{q} Q0 {d} {rank} {score:.6f} synthetic\n")
    return "".join(lines)


def make_store(root: Path, *, systems: int, tracks=("noise-0.0", "noise-0.3"), seed: int = 0,
               references: int = 2, scratch: Path | None = None) -> list[tuple[str, str]]:
    """`systems` submissions per track (the first `references` produced by the harness)."""
    scratch = Path(scratch or root.parent / "scratch")
    scratch.mkdir(parents=True, exist_ok=True)
    made = []
    for t_index, name in enumerate(tracks):
        track = get_track(name)
        for i in range(systems):
            sys_name = f"ref-{i}" if i < references else f"system-{i:03d}"
            run = scratch / f"{name}-{sys_name}.trec"
            run.write_text(synthetic_run(track, skill=0.5 + 0.5 * ((i * 37) % systems) / systems,
                                         seed=seed + 1000 * t_index + i))
            meta = metadata(name=sys_name, track=track, team=f"team {i % 7}", description=f"synthetic system {i}",
                            produced_by="harness" if i < references else "participant")
            store(root=root, meta=meta, run=run)
            made.append((name, sys_name))
    return made
