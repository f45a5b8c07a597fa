"""Tracks: declarative TOML files that fix everything that affects a score.

A track names a collection, its languages with their resource class (high / low), the
training bitext sources, the noise applied to them and its seed, the metrics (first =
primary) and the run-file limits. Built-in tracks live in `clir_bench/data/tracks/`; any
other TOML file can be given by path wherever a track name is accepted.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.languages import LANGUAGES
from clir_bench.core.registry import Registry
from clir_bench.core.schema import Where, check_keys, expect
from clir_bench.evaluation.metrics import DEFAULT_METRICS, Metric, metric
from clir_bench.sources import ciral, ir_datasets_source, udhr  # noqa: F401  (register the collection sources)
from clir_bench.sources.base import SOURCES, PairData
from clir_bench.tracks.bitext import BITEXT, Pair
from clir_bench.tracks.noise import NOISE, Corruption, corrupt

CLASSES = ("low", "high")
MAX_DESCRIPTION = 2000  # characters


@dataclass(frozen=True)
class NoiseSpec:
    kind: str
    rate: float
    params: dict = field(default_factory=dict)

    def describe(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.kind} at rate {self.rate:g}{extra}"


@dataclass(frozen=True, eq=False)
class Track:
    name: str
    version: int
    description: str
    seed: int
    collection: object  # a CollectionSource
    languages: dict[str, str]  # lang -> "high" | "low", in declaration order
    bitext_sources: tuple
    noise: NoiseSpec
    metrics: tuple[Metric, ...]  # first is primary
    max_docs_per_query: int
    path: str
    source: str  # the TOML text
    fold: int | None = None  # set on the one-fold views of a cross-validated track

    @property
    def cross_validated(self) -> bool:
        return getattr(self.collection, "cross_validated", False)

    @functools.cache  # noqa: B019
    def fold_tracks(self) -> tuple[Track, ...]:
        """One track per fold, each with its own collection split, bitext, dev and models; (self,)
        for a track of one fold. A cross-validated run answers each fold's test queries with the
        model of that fold and joins the answers into one run."""
        if not self.cross_validated:
            return (self,)
        return tuple(dataclasses.replace(
            self, name=f"{self.name}-fold{f}", collection=self.collection.for_fold(f), fold=f,
            bitext_sources=tuple(b.for_fold(f) if hasattr(b, "for_fold") else b for b in self.bitext_sources))
            for f in self.collection.folds)

    @functools.cache  # noqa: B019
    def fold_of(self) -> dict[str, int]:
        """qid -> its fold, for a cross-validated track; {} otherwise."""
        if not self.cross_validated:
            return {}
        return {q: f for lang in self.languages for q, f in self.collection.fold_of(lang).items()}

    @property
    def primary(self) -> Metric:
        return self.metrics[0]

    def of_class(self, cls: str) -> list[str]:
        return [lang for lang, c in self.languages.items() if c == cls]

    @functools.cache  # noqa: B019  (tracks are few and live as long as the process)
    def data(self, split: str = "test") -> dict[str, PairData]:
        """Per language: queries, documents and qrels of `split` ("test" or "dev")."""
        return {lang: self.collection.load(lang, split) for lang in self.languages}

    @functools.cache  # noqa: B019
    def clean_bitext(self) -> dict[str, list[Pair]]:
        if self.cross_validated:  # never one bitext for all folds: it would hold every fold's test text
            raise ClirBenchError(f"track {self.name} is cross-validated: each fold has its own bitext "
                                 "(Track.fold_tracks())")
        return {lang: [p for src in self.bitext_sources for p in src.pairs(lang)] for lang in self.languages}

    @functools.cache  # noqa: B019
    def bitext_sha256(self) -> str:
        """The one checksum of the noisy training bitext and its noise manifest (as exported; every
        fold's, for a cross-validated track). A whole track's (which every score report names) is
        remembered in the cache, keyed by its definition and the code and data that make it; a fold's
        is computed: fold tracks share their parent's definition text, so it cannot key them."""
        from clir_bench.core.cache import memo_sha256
        from clir_bench.sources.export import digest, render_bitext

        if self.fold is not None:
            return digest(render_bitext(self))
        return memo_sha256(f"bitext|{self.name}|{self.source}|{_generator_sha256()}",
                           lambda: digest(render_bitext(self)))

    @functools.cache  # noqa: B019
    def noisy_bitext(self) -> tuple[dict[str, list[Pair]], list[Corruption]]:
        """The training bitext with the track's seeded noise applied, and its manifest."""
        return corrupt(self.clean_bitext(), kind=self.noise.kind, rate=self.noise.rate, seed=self.seed,
                       **self.noise.params)


@functools.cache
def _generator_sha256() -> str:
    """A checksum of what turns a track definition into its bitext: the harness's version, the
    modules that read, corrupt and render it, and the embedded data."""
    import hashlib

    import clir_bench

    package = Path(clir_bench.__file__).parent
    h = hashlib.sha256(clir_bench.__version__.encode())
    files = [*sorted((package / "tracks").glob("*.py")), *sorted((package / "sources").glob("*.py")),
             package / "core" / "rng.py", *sorted(p for p in (package / "data").rglob("*") if p.is_file())]
    for f in files:
        h.update(f.relative_to(package).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _lookup(registry: Registry, name: str, where: Where, key: str):
    """`registry.get(name)`, its error located at `key` in the track file."""
    try:
        return registry.get(name)
    except ClirBenchError as e:
        raise ClirBenchError(f"{where.at(key)}: {e}") from None


def parse_track(text: str, path: str) -> Track:
    """Validate a track definition; every problem names the file, line and key."""
    where = Where(path, text)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ClirBenchError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise ClirBenchError(f"{path}: found arrays or tables nested too deeply, expected a track definition") from None
    top = {"name", "version", "description", "seed", "collection", "languages", "bitext", "noise",
           "metrics", "max_docs_per_query"}
    check_keys(doc, top, where, required={"name", "version", "seed", "collection", "languages", "noise"})
    name = expect(doc["name"], str, where, "name", "a track name string")
    version = expect(doc["version"], int, where, "version", "an integer version")
    seed = expect(doc["seed"], int, where, "seed", "an integer seed")
    description = expect(doc.get("description", ""), str, where, "description", "a string")
    if len(description) > MAX_DESCRIPTION:
        raise ClirBenchError(f"{where.at('description')}: found {len(description):,} characters, expected at most "
                             f"{MAX_DESCRIPTION:,}")
    max_docs = expect(doc.get("max_docs_per_query", 1000), int, where, "max_docs_per_query", "a positive integer")
    if max_docs < 1:
        raise ClirBenchError(f"{where.at('max_docs_per_query')}: found {max_docs}, expected a positive integer")

    cwhere = where.sub("collection")
    coll = expect(doc["collection"], dict, where, "collection", "a [collection] table")
    source = expect(coll.get("source"), str, cwhere, "source", f"one of: {', '.join(SOURCES)}")
    collection = _lookup(SOURCES, source, cwhere, "source")(coll, cwhere)

    lwhere = where.sub("languages")
    langs_table = expect(doc["languages"], dict, where, "languages",
                         "a [languages] table with high = [...] and low = [...]")
    check_keys(langs_table, set(CLASSES), lwhere)
    languages: dict[str, str] = {}
    for cls in CLASSES:
        for lang in expect(langs_table.get(cls, []), list, lwhere, cls, "a list of language codes"):
            expect(lang, str, lwhere, cls, "language codes (strings such as \"sw\")")
            if lang in languages:
                raise ClirBenchError(f"{lwhere.at(cls)}: language {lang!r} is listed twice")
            if collection.name == "udhr":
                _lookup(LANGUAGES, lang, lwhere, cls)
            languages[lang] = cls
    if not languages:
        raise ClirBenchError(f"{lwhere.at('low')}: found no language, expected at least one (the gap needs both "
                             "classes; a track of one class has per-language scores and no gap)")

    bitext_sources = []
    for table in expect(doc.get("bitext", []), list, where, "bitext", "[[bitext]] tables"):
        bwhere = where.sub("bitext")
        expect(table, dict, where, "bitext", "[[bitext]] tables (each with source = ...)")
        kind = expect(table.get("source"), str, bwhere, "source", f"one of: {', '.join(BITEXT)}")
        bitext_sources.append(_lookup(BITEXT, kind, bwhere, "source")(table, bwhere, collection=collection, seed=seed))

    nwhere = where.sub("noise")
    ntable = expect(doc["noise"], dict, where, "noise", "a [noise] table")
    nkind = _lookup(NOISE, expect(ntable.get("kind"), str, nwhere, "kind", f"one of: {', '.join(NOISE)}"), nwhere,
                    "kind")
    check_keys(ntable, {"kind", "rate", *nkind.params}, nwhere, required={"rate"})
    rate = expect(ntable["rate"], (int, float), nwhere, "rate", "a number in [0, 1]")
    if not 0 <= rate <= 1:
        raise ClirBenchError(f"{nwhere.at('rate')}: found {rate}, expected a number in [0, 1]")
    params = {k: expect(ntable[k], t, nwhere, k, t.__name__) for k, (t, _) in nkind.params.items() if k in ntable}
    for k, v in params.items():
        if isinstance(v, float) and not (math.isfinite(v) and 0 < v <= 1):
            raise ClirBenchError(f"{nwhere.at(k)}: found {v}, expected a number in (0, 1]")
    noise = NoiseSpec(nkind.name, float(rate), params)

    names = expect(doc.get("metrics", list(DEFAULT_METRICS)), list, where, "metrics",
                   "a list of metric names, the primary first")
    for n in names:
        expect(n, str, where, "metrics", "metric names (strings such as \"map\")")
    try:
        metrics = tuple(dict.fromkeys(metric(n) for n in names))
    except ClirBenchError as e:
        raise ClirBenchError(f"{where.at('metrics')}: {e}") from None
    if not metrics:
        raise ClirBenchError(f"{where.at('metrics')}: found an empty list, expected at least one metric")
    return Track(name, version, description, seed, collection, languages, tuple(bitext_sources), noise,
                 metrics, max_docs, path, text)


def load_track_file(path: Path) -> Track:
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ClirBenchError(f"cannot read track file {path}: {e}") from None
    return parse_track(text, str(path))


@functools.cache
def builtin() -> Registry[Track]:
    """The tracks shipped in clir_bench/data/tracks, by name."""
    registry: Registry[Track] = Registry("track")
    folder = resources.files("clir_bench").joinpath("data", "tracks")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            track = parse_track(entry.read_text("utf-8"), f"clir_bench/data/tracks/{entry.name}")
            if f"{track.name}.toml" != entry.name:
                raise ClirBenchError(f"{track.path}: name {track.name!r} differs from the file name")
            registry.add(track.name, track)
    return registry


def get_track(name_or_path: str) -> Track:
    """A built-in track by name, or a track file by path (anything ending in .toml)."""
    if name_or_path.endswith(".toml") or Path(name_or_path).is_file():
        if not Path(name_or_path).is_file():
            raise ClirBenchError(f"track file {name_or_path} does not exist")
        return load_track_file(Path(name_or_path))
    return builtin().get(name_or_path)


def select_folds(track, folds: list[int] | None):
    """(the fold tracks to run, the track to score on, the smoke-test label or None)."""
    parts = track.fold_tracks()
    if folds is None or [p.fold for p in parts] == sorted(folds) or not track.cross_validated:
        if folds is not None and not track.cross_validated and folds != [parts[0].collection.folds[0]]:
            raise ClirBenchError(f"track {track.name} is not cross-validated; leave --folds out")
        return parts, track, None
    if len(folds) != 1 or folds[0] not in [p.fold for p in parts]:
        raise ClirBenchError(f"--folds {','.join(map(str, folds))}: expected one fold of "
                             f"{', '.join(str(p.fold) for p in parts)} (a smoke test) or all of them")
    part = next(p for p in parts if p.fold == folds[0])
    return [part], part, (f"fold {part.fold} only (smoke test): scored on that fold's {part.name} queries, "
                          f"not track {track.name}'s cross-validation, and never recorded as a submission")
