"""Systems: discovered through the entry-point group `clir_bench.systems`, run on a track,
their runs written, scored and recorded. The harness never looks inside a system.

A system is a class with `name`, `description` and `run(track, ctx) -> SystemResult`;
register it in your package's pyproject.toml:

    [project.entry-points."clir_bench.systems"]
    my-system = "my_package.module:MySystem"
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import atomic_dir, atomic_file, write_text_atomic  # for systems that keep files

__all__ = ["Context", "SystemResult", "atomic_dir", "atomic_file", "default_systems", "get_system", "registry",
           "write_run", "write_text_atomic"]
from clir_bench.core.registry import Registry
from clir_bench.models import DEFAULT_ENCODER

GROUP = "clir_bench.systems"
REFERENCE_PACKAGE = "clir_baselines"  # whose systems `clir-bench run` runs by default


@dataclass
class Context:
    """Options every system may read, and a memo for what systems share within one call
    (a loaded encoder, the teacher's token states): `shared(key, make)`."""

    device: str = "cpu"
    encoder: str = DEFAULT_ENCODER
    mt_model: str | None = None
    cache: Path | None = None
    seed: int = 0
    protocol: str = "quick"  # how reference students train (clir_bench.models.protocol)
    train: dict = field(default_factory=dict)  # overrides of the protocol's settings (OpticalConfig fields)
    progress: bool = False
    log: object = print
    _memo: dict = field(default_factory=dict)

    def shared(self, key, make):
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]


@dataclass
class SystemResult:
    """The system's rankings ({qid: {docid: score}}), or the reason it could not run
    (`not_run`); `info` is provenance (scalars are recorded with its reference submission)."""

    rankings: dict | None = None
    not_run: str | None = None
    info: dict = field(default_factory=dict)


@functools.cache
def registry() -> Registry:
    systems: Registry = Registry("system")
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name not in systems:
            systems.add(ep.name, ep)
    return systems


def default_systems() -> list[str]:
    """The reference systems: those registered by clir_baselines, in their declaration order."""
    names = [ep.name for ep in entry_points(group=GROUP) if ep.value.startswith(f"{REFERENCE_PACKAGE}.")]
    return list(dict.fromkeys(names))


def get_system(name: str):
    """Instantiate the registered system `name` (suggesting near misses)."""
    ep = registry().get(name)
    try:
        return ep.load()()
    except ImportError as e:
        raise ClirBenchError(f"system {name!r} cannot load: {e}; install clir-bench[models]") from None


def write_run(path: Path, run: dict, tag: str, depth: int = 1000) -> None:
    """A TREC run, each query's documents by descending score (ties by docid), atomically."""
    lines = []
    for qid in sorted(run):
        ranked = sorted(run[qid].items(), key=lambda kv: (-kv[1], kv[0]))[:depth]
        lines += [f"{qid} Q0 {d} {r} {s:.9g} {tag}" for r, (d, s) in enumerate(ranked, 1)]
    write_text_atomic(path, "\n".join(lines) + "\n")
