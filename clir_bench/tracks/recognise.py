"""Which built-in track a run answers, from the query ids of its first lines."""

from __future__ import annotations

import zlib
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import open_text
from clir_bench.evaluation.qrels import qrels_sha256
from clir_bench.evaluation.validation import MAX_LINE
from clir_bench.tracks.track import Track, builtin

SAMPLE_BYTES = 8 << 20  # decompressed text read at most: a gzip bomb costs no more than this


def sample_qids(run_path: Path, *, lines: int = 2000) -> set[str]:
    """The first column of the first `lines` lines (each read up to MAX_LINE characters)."""
    from clir_bench.core.files import foreign_format

    if problem := foreign_format(run_path):
        raise ClirBenchError(f"{run_path}: {problem}")
    qids: set[str] = set()
    read = 0
    try:
        with open_text(run_path, errors="replace") as f:
            for _ in range(lines):
                line = f.readline(MAX_LINE)
                if not line or read > SAMPLE_BYTES:
                    break
                read += len(line)
                parts = line.split()
                if parts:
                    qids.add(parts[0])
    except (OSError, EOFError, zlib.error) as e:
        raise ClirBenchError(f"cannot read run file {run_path}: {e}") from None
    return qids


def detect_track(qids: set[str], where: str) -> tuple[Track, list[str]]:
    """The built-in track whose test queries best cover `qids` (a run's, named `where`), and the
    names of the tracks with the same test data (its twins: the noise tracks share their test split)."""
    best, best_cover = None, 0.0
    for _, track in builtin().items():
        known = {q for pair in track.data("test").values() for q in pair.queries}
        cover = len(qids & known) / len(qids) if qids else 0.0
        if cover > best_cover:
            best, best_cover = track, cover
    if not qids:
        raise ClirBenchError(f"{where}: found no run lines (an empty file?), expected `qid Q0 docid rank score tag` "
                             "lines; check the file, or pass --track NAME")
    if best is None or best_cover < 0.5:
        raise ClirBenchError(
            f"{where}: found query ids like {[q[:20] for q in sorted(qids)[:3]]} that match no built-in track; "
            "pass --track NAME (see `clir-bench tracks`) or --qrels FILE"
        )
    digest = _test_qrels_sha256(best)
    twins = [name for name, t in builtin().items()
             if name != best.name and set(t.languages) == set(best.languages) and _test_qrels_sha256(t) == digest]
    return best, twins


def _test_qrels_sha256(track: Track) -> str:
    return qrels_sha256({q: j for pair in track.data("test").values() for q, j in pair.qrels.items()})
