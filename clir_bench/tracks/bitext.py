"""Training bitext: pairs of (text in a query language, its English translation).

Sources are registered by name and configured by a track's `[[bitext]]` tables:
`udhr` (paragraph pairs of the training articles), `cldr` (names of territories,
languages, scripts, currencies, months and days from the CLDR data of babel 2.18.0), and
local files: `tsv` (`text<TAB>english`) and `moses` (two line-aligned files, as OPUS ships).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import open_text
from clir_bench.core.registry import Registry
from clir_bench.core.rng import ranked
from clir_bench.core.schema import Where, check_keys, expect
from clir_bench.sources import udhr


@dataclass(frozen=True)
class Pair:
    id: str
    lang: str
    text: str  # in `lang`
    english: str


def udhr_pairs(lang: str, units) -> list[Pair]:
    """Paragraph pairs; a unit whose paragraph counts differ is one article-level pair (`udhr-UU00`)."""
    english = udhr.paragraphs("en")
    pairs = []
    for u in units:
        src = udhr.paragraphs(lang).get(u, [])
        if not src:
            continue
        if udhr.aligned(lang, u):
            pairs += [Pair(f"udhr-{u:02d}{p:02d}", lang, s, e)
                      for p, (s, e) in enumerate(zip(src, english[u], strict=False), 1)]
        else:
            pairs.append(Pair(f"udhr-{u:02d}00", lang, " ".join(src), " ".join(english[u])))
    return pairs


@functools.cache
def cldr_pairs(lang: str) -> tuple[Pair, ...]:
    path = resources.files("clir_bench").joinpath("data", "cldr", f"{lang}.tsv")
    if not path.is_file():
        raise ClirBenchError(f"no CLDR term pairs ship for language {lang!r}; remove the cldr bitext or the language")
    rows = path.read_text("utf-8").splitlines()[1:]
    return tuple(Pair(f"cldr-{key}", lang, text, english) for key, text, english in (r.split("\t") for r in rows))


@dataclass(frozen=True)
class UdhrBitext:
    """Paragraph pairs of the UDHR units outside the test and dev splits of `fold`."""

    fold: int | None  # None: every unit (only when the collection is not udhr)

    def pairs(self, lang: str) -> list[Pair]:
        units = udhr.UNITS if self.fold is None else udhr.units_of("train", self.fold)
        return udhr_pairs(lang, units)

    def describe(self) -> str:
        return "udhr: all units" if self.fold is None else f"udhr: train units of fold {self.fold}"

    def for_fold(self, fold: int) -> UdhrBitext:
        return UdhrBitext(fold=fold)


@dataclass(frozen=True)
class CldrBitext:
    """CLDR name pairs; `max_pairs` of them per language, drawn by a seeded ranking."""

    max_pairs: int | None
    seed: int

    def pairs(self, lang: str) -> list[Pair]:
        pairs = cldr_pairs(lang)
        if self.max_pairs is None or self.max_pairs >= len(pairs):
            return list(pairs)
        keep = set(ranked([p.id for p in pairs], self.seed, "cldr", lang)[: self.max_pairs])
        return [p for p in pairs if p.id in keep]

    def describe(self) -> str:
        n = "all" if self.max_pairs is None else f"up to {self.max_pairs}"
        return f"cldr: {n} term pairs per language"


BITEXT: Registry = Registry("bitext source")


@BITEXT.register("udhr")
def _udhr(options: dict, where: Where, *, collection, seed: int) -> UdhrBitext:
    check_keys(options, {"source", "units"}, where)
    units = options.get("units", "train")
    if units not in ("train", "all"):
        raise ClirBenchError(f"{where.at('units')}: found {units!r}, expected \"train\" or \"all\"")
    if collection.name == "udhr":
        if units == "all":
            raise ClirBenchError(
                f"{where.at('units')}: \"all\" would put test and dev articles in the training bitext "
                "of a udhr track; use \"train\""
            )
        return UdhrBitext(fold=collection.folds[0])  # a cross-validated track gives each fold its own
    return UdhrBitext(fold=None if units == "all" else 0)


@BITEXT.register("cldr")
def _cldr(options: dict, where: Where, *, collection, seed: int) -> CldrBitext:
    check_keys(options, {"source", "max_pairs"}, where)
    return CldrBitext(max_pairs=_max_pairs(options, where), seed=seed)


OPUS = ("parallel text for {lang}-English, e.g. from OPUS (https://opus.nlpl.eu: a corpus's Moses "
        "files for en-{lang}, or its TSV), at the path the track gives (relative to the track file)")


def _open_text(path: Path):
    if not path.is_file():
        raise ClirBenchError(f"bitext file {path} is missing; get {OPUS.format(lang='LANG')} there")
    return open_text(path)


@dataclass(frozen=True)
class FileBitext:
    """Sentence pairs from local files: TSV (`text<TAB>english`) or Moses (two aligned files).

    `{lang}` in a path stands for the language code; `max_pairs` keeps a seeded choice per language.
    """

    kind: str  # "tsv" | "moses"
    paths: tuple[str, ...]  # tsv: (path,); moses: (foreign, english)
    base: Path
    max_pairs: int | None
    seed: int

    def _file(self, template: str, lang: str) -> Path:
        return self.base / template.replace("{lang}", lang)

    def _read(self, lang: str) -> list[Pair]:
        pairs = []
        if self.kind == "tsv":
            path = self._file(self.paths[0], lang)
            with _open_text(path) as f:
                for n, line in enumerate(f, 1):
                    if not line.strip() or (n == 1 and line.rstrip("\r\n") == "text\tenglish"):
                        continue
                    parts = line.rstrip("\r\n").split("\t")
                    if len(parts) != 2:
                        raise ClirBenchError(f"{path}:{n}: found {len(parts)} columns, expected `text<TAB>english`")
                    pairs.append(Pair(f"tsv-{n}", lang, parts[0], parts[1]))
            return pairs
        foreign, english = self._file(self.paths[0], lang), self._file(self.paths[1], lang)
        with _open_text(foreign) as f, _open_text(english) as e:
            n = 0
            for n, (src, tgt) in enumerate(zip(f, e, strict=False), 1):
                if src.strip() and tgt.strip():
                    pairs.append(Pair(f"moses-{n}", lang, src.strip(), tgt.strip()))
            rest_f, rest_e = sum(1 for _ in f), sum(1 for _ in e)
        if rest_f or rest_e:
            longer, count = (foreign, n + rest_f) if rest_f else (english, n + rest_e)
            raise ClirBenchError(f"{longer}:{n + 1}: found {count} lines, expected {n} as in its other side "
                                 f"({english if rest_f else foreign}): Moses files align line by line")
        return pairs

    def pairs(self, lang: str) -> list[Pair]:
        pairs = self._read(lang)
        if self.max_pairs is None or self.max_pairs >= len(pairs):
            return pairs
        keep = set(ranked([p.id for p in pairs], self.seed, self.kind, lang)[: self.max_pairs])
        return [p for p in pairs if p.id in keep]

    def describe(self) -> str:
        n = "all" if self.max_pairs is None else f"up to {self.max_pairs}"
        return f"{self.kind}: {' + '.join(self.paths)}, {n} pairs per language"


def _max_pairs(options: dict, where: Where) -> int | None:
    max_pairs = options.get("max_pairs")
    if max_pairs is not None and (expect(max_pairs, int, where, "max_pairs", "a non-negative integer") < 0):
        raise ClirBenchError(f"{where.at('max_pairs')}: found {max_pairs}, expected a non-negative integer")
    return max_pairs


@BITEXT.register("tsv")
def _tsv(options: dict, where: Where, *, collection, seed: int) -> FileBitext:
    check_keys(options, {"source", "path", "max_pairs"}, where, required={"path"})
    path = expect(options["path"], str, where, "path", "a file path with {lang}, e.g. \"bitext/{lang}-en.tsv\"")
    return FileBitext("tsv", (path,), Path(where.path).parent, _max_pairs(options, where), seed)


@BITEXT.register("moses")
def _moses(options: dict, where: Where, *, collection, seed: int) -> FileBitext:
    check_keys(options, {"source", "foreign", "english", "max_pairs"}, where, required={"foreign", "english"})
    paths = tuple(expect(options[k], str, where, k, "a file path with {lang}, e.g. \"opus/en-{lang}.{lang}\"")
                  for k in ("foreign", "english"))
    return FileBitext("moses", paths, Path(where.path).parent, _max_pairs(options, where), seed)
